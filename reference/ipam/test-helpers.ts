// Builders for IPAM unit tests: model objects with defaults, so each test states only what matters.
import type { CalicoPool, LbPool } from '../k8s/model.ts';
import type { LbServiceRequest } from './lb-ipam.ts';
import { EVERYTHING } from '../k8s/selectors.ts';

const TEST_SOURCE = { file: 'test', line: 0, object: 'test' };

export function testPool(name: string, blocks: string[], overrides: Partial<LbPool> = {}): LbPool {
  return {
    name,
    flavour: 'cilium',
    blocks,
    serviceSelector: EVERYTHING,
    namespaces: [],
    disabled: false,
    autoAssign: true,
    reserveFirstLast: false,
    avoidBuggyIPs: false,
    source: TEST_SOURCE,
    ...overrides,
  };
}

export function testService(key: string, overrides: Partial<LbServiceRequest> = {}): LbServiceRequest {
  return {
    key,
    namespace: key.split('/')[0]!,
    labels: {},
    ipFamilies: [4],
    requestedIPs: [],
    requestedPools: [],
    ...overrides,
  };
}

export function testCalicoPool(name: string, cidr: string, blockSize: number, overrides: Partial<CalicoPool> = {}): CalicoPool {
  return { name, cidr, blockSize, nodeSelector: EVERYTHING, disabled: false, disableBGPExport: false, source: TEST_SOURCE, ...overrides };
}

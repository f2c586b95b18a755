import { describe, expect, it } from 'vitest';
import { containerRunFlags, missingCapabilities } from './peerproof-image.ts';

describe('docker run flags of the peerproof image', () => {
  it('are --privileged when the bounding set has every capability', () => {
    expect(missingCapabilities('CapBnd:\t000001ffffffffff\n')).toEqual([]);
    expect(containerRunFlags('CapBnd:\t000001ffffffffff\n')).toEqual(['--privileged']);
  });

  it('spell out every capability but the missing ones where runc would refuse --privileged (SYS_RESOURCE is bit 24)', () => {
    const status = 'Name:\tnode\nCapBnd:\t000001fffeffffff\n';
    expect(missingCapabilities(status)).toEqual(['SYS_RESOURCE']);
    expect(containerRunFlags(status)).toEqual(['--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE', '--security-opt', 'seccomp=unconfined', '--security-opt', 'systempaths=unconfined']);
  });
});

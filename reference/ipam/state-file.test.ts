import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpamStateError, readIpamState, writeIpamState } from './state-file.ts';

const dir = mkdtempSync(join(tmpdir(), `peerproof-ipam-state-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IPAM state file', () => {
  it('round-trips and leaves no temporary file behind', () => {
    const path = join(dir, 'state.json');
    const state = { version: 1 as const, lb: { version: 1 as const, allocations: [{ service: 'ns/a', pool: 'p', address: '10.0.0.1' }] } };
    writeIpamState(path, state);
    writeIpamState(path, state);
    expect(readIpamState(path)).toEqual(state);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('starts empty when the file does not exist', () => {
    expect(readIpamState(join(dir, 'missing.json'))).toEqual({ version: 1 });
  });

  it('refuses a corrupt or foreign file with a clear error and leaves it untouched', () => {
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, '{"version":1,"lb":{"version":1,"allocations":[{"service":"x"');
    expect(() => readIpamState(path)).toThrow(IpamStateError);
    expect(() => readIpamState(path)).toThrow(/corrupt.json: not valid JSON/);
    expect(readFileSync(path, 'utf8')).toContain('"service":"x"');
    writeFileSync(path, JSON.stringify({ version: 1, lb: { version: 1, allocations: [{ service: 'x', pool: 'p' }] } }));
    expect(() => readIpamState(path)).toThrow(/lb.allocations\[0\].address is missing/);
    writeFileSync(path, JSON.stringify({ version: 7 }));
    expect(() => readIpamState(path)).toThrow(/unsupported state version 7/);
  });
});

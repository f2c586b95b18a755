// What `peerproof preflight` refuses before it opens any socket (the real command line; no root).
// Its sessions are tested against lab FRR, GoBGP and BIRD in reference/bgp/preflight.lab.test.ts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', '..', 'bin', 'peerproof.js');

async function preflight(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec('node', [cli, 'preflight', ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe('peerproof preflight refuses', () => {
  it('to run without an explicit peer address, or with a wildcard', async () => {
    const none = await preflight('--peer-as', '65010', '--local-as', '65001');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--peer ADDRESS is required');
    const wildcard = await preflight('--peer', '0.0.0.0', '--peer-as', '65010', '--local-as', '65001');
    expect(wildcard.code).toBe(1);
    expect(wildcard.stderr).toContain('--peer "0.0.0.0": a wildcard address is not a peer');
  });

  it('TCP MD5 (--password), which the reference speaker does not support, saying so', async () => {
    const md5 = await preflight('--peer', '192.0.2.1', '--peer-as', '65010', '--local-as', '65001', '--password', 'secret');
    expect(md5.code).toBe(1);
    expect(md5.stderr).toContain('--password (TCP MD5, RFC 2385) is not supported');
    expect(md5.stdout).toBe('');
  });
});

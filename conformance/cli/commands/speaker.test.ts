// `peerproof speaker` as users run it: a daemon from a YAML file (on loopback), its sessions
// table through `speaker status`, a clean exit on SIGTERM, and a config error naming the field.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = resolve(fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'peerproof-speaker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('peerproof speaker', () => {
  it('runs as a daemon, serves the sessions table and stops cleanly on SIGTERM', async () => {
    const socket = join(dir, 'status.sock');
    const config = join(dir, 'speaker.yaml');
    writeFileSync(config, `routerId: 10.0.0.1\nlocalAs: 65001\nlisten: { address: 127.0.0.1, port: 0 }\nstatus: { socket: ${socket} }\npeers:\n  - { name: tor-a, address: 127.0.0.9, asn: 65002, passive: true }\nroutes: [10.0.0.1/32]\n`);
    const daemon = spawn(process.execPath, [bin, 'speaker', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    daemon.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((r) => daemon.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!stderr.includes('speaker up')) {
        if (Date.now() > deadline) throw new Error(`daemon did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const status = await cli(['speaker', 'status', '--socket', socket]);
      expect(status.code).toBe(0);
      const lines = status.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+LOCAL ASN\s+PEER ASN\s+LOCAL IP\s+PEER IP\s+STATE/);
      expect(lines[1]).toMatch(/^tor-a\s+65001\s+65002\s+-\s+127\.0\.0\.9\s+Active/);
      const json = JSON.parse((await cli(['speaker', 'status', '--socket', socket, '--json'])).stdout);
      expect(json[0]).toMatchObject({ kind: 'BGPSession', spec: { localASN: 65001, peerASN: 65002, peerIP: '127.0.0.9' } });
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM: stopping');
  });

  it('rejects an invalid config with file, line, field and reason', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, `routerId: 10.0.0.1\nlocalAs: 65001\npeers:\n  - { address: 10.0.0.2, asn: 0 }\n`);
    const result = await cli(['speaker', '--config', config]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${config}:4: peers[0].asn: must be an integer from 1 to 4294967295, got 0`);
  });
});

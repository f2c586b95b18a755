import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputBuffer } from './output-buffer.ts';

describe('OutputBuffer', () => {
  it('writes every line once, in order, whatever its size or characters', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peerproof-out-'));
    try {
      const file = join(dir, 'out.txt');
      const fd = openSync(file, 'w');
      const lines = [
        ...Array.from({ length: 50_000 }, (_, i) => `{"n":${i},"host":"rtr-${i % 7}"}`),
        'fqdn "münchen-rtr-ö" ✓',
        'x'.repeat(3 << 20), // larger than the buffer
        'after the big one',
      ];
      const out = new OutputBuffer(fd);
      for (const line of lines) out.line(line);
      out.flush();
      closeSync(fd);
      expect(readFileSync(file, 'utf8')).toBe(lines.join('\n') + '\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

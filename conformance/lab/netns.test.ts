// run(): a command that exits without reading its input must not crash the caller with EPIPE.
import { describe, expect, it } from 'vitest';
import { run } from './netns.ts';

describe('run', () => {
  it('reports the exit of a command that never reads its input, instead of an unhandled EPIPE', async () => {
    const result = await run(['sh', '-c', 'echo gone >&2; exit 3'], { input: 'x'.repeat(4 * 1024 * 1024) });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('gone');
  });

  it('passes input to a command that reads it', async () => {
    expect((await run(['cat'], { input: 'hello' })).stdout).toBe('hello');
  });
});

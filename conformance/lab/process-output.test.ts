import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eventually, JsonLines, typescriptCommand } from './process-output.ts';

describe('JsonLines', () => {
  it('collects records split across chunks and resolves a waiter when its record arrives', async () => {
    const stream = new PassThrough();
    const lines = new JsonLines(stream);
    const leader = lines.waitFor((r) => r.event === 'leader');
    stream.write('{"event":"ready"}\n{"event":"lea');
    stream.write('der","round":1}\n\n');
    await expect(leader).resolves.toEqual({ event: 'leader', round: 1 });
    expect(lines.records.map((r) => r.event)).toEqual(['ready', 'leader']);
  });

  it('looks only at records from `fromIndex` on, and names what it saw when it times out', async () => {
    const stream = new PassThrough();
    const lines = new JsonLines(stream);
    stream.write('{"event":"leader"}\n');
    await lines.waitFor((r) => r.event === 'leader');
    await expect(lines.waitFor((r) => r.event === 'leader', 50, lines.records.length)).rejects.toThrow(/no matching record within 50 ms; saw \[\{"event":"leader"\}\]/);
  });
});

describe('eventually', () => {
  it('polls until the probe returns a value other than null', async () => {
    let calls = 0;
    await expect(eventually(() => (++calls >= 3 ? calls : null), 'three calls')).resolves.toBe(3);
  });

  it('says what it waited for when time runs out', async () => {
    await expect(eventually(async () => null, 'the moon', 50)).rejects.toThrow('timed out after 50 ms waiting for the moon');
  });
});

describe('typescriptCommand', () => {
  it('runs the script with this Node and the tsx loader', () => {
    const argv = typescriptCommand(new URL('file:///srv/app/main.ts'), ['--flag']);
    expect(argv[0]).toBe(process.execPath);
    expect(argv.slice(1, 2)).toEqual(['--import']);
    expect(argv[2]).toMatch(/node_modules\/tsx\/dist\/loader\.mjs$/);
    expect(argv.slice(3)).toEqual(['/srv/app/main.ts', '--flag']);
  });
});

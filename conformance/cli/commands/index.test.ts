import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCommands } from './index.ts';

const argv = (...args: string[]) => ['node', 'peerproof', ...args];
const options = (program: Command, name: string) => program.commands.find((c) => c.name() === name)?.options.map((o) => o.long);

describe('registerCommands', () => {
  it('lists every command by its summary for the top-level help, without loading their modules', async () => {
    const program = new Command();
    await registerCommands(program, argv('--help'));
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['run', 'gate', 'report', 'decode', 'lab', 'speaker', 'fixture', 'replay']));
    for (const c of program.commands) expect(c.summary()).not.toBe('');
    expect(options(program, 'run')).toEqual([]);
  });

  it('loads the named command, also behind `help`', async () => {
    for (const args of [['run', '--help'], ['help', 'run']]) {
      const program = new Command();
      await registerCommands(program, argv(...args));
      expect(program.commands.map((c) => c.name())).toEqual(['run']);
      expect(options(program, 'run')).toContain('--baseline');
    }
  });

  it('loads both commands of a module that registers two', async () => {
    const program = new Command();
    await registerCommands(program, argv('replay', 'x.pcap', '--against', 'frr'));
    expect(program.commands.map((c) => c.name()).sort()).toEqual(['fixture', 'replay']);
  });
});

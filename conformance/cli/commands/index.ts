import type { Command } from 'commander';

// Each subcommand lives in its own module beside this one and registers itself here.
const registrars: Array<(program: Command) => void> = [];

export function registerCommands(program: Command): void {
  for (const register of registrars) register(program);
}

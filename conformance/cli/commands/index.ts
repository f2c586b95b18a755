import type { Command } from 'commander';
import { register as registerAgent } from './agent.ts';
import { register as registerCluster } from './cluster.ts';
import { register as registerCoverage } from './coverage.ts';
import { register as registerDecode } from './decode.ts';
import { register as registerDemo } from './demo.ts';
import { register as registerDocker } from './docker.ts';
import { register as registerGate } from './gate.ts';
import { register as registerL2Announce } from './l2-announce.ts';
import { register as registerLab } from './lab.ts';
import { register as registerReport } from './report.ts';
import { register as registerRun } from './run.ts';
import { register as registerSpeaker } from './speaker.ts';

// Each subcommand lives in its own module beside this one and registers itself here.
const registrars: Array<(program: Command) => void> = [registerRun, registerGate, registerReport, registerCoverage, registerDecode, registerDemo, registerLab, registerSpeaker, registerL2Announce, registerDocker, registerCluster, registerAgent];

export function registerCommands(program: Command): void {
  for (const register of registrars) register(program);
}

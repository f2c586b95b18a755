// Test helper: brings a topology (JSON file) up and holds it until killed, as a run that crashes
// midway would leave it. Prints the run id once the lab is ready. With a fourth argument `once`
// it is a run that completes instead: up, run id printed, stopped, exit 0.
import { readFileSync } from 'node:fs';
import { startLab } from '../../lab.ts';
import type { LabTopology } from '../../model.ts';

const [backend, runsRoot, topologyFile, mode] = process.argv.slice(2);
if (!backend || !runsRoot || !topologyFile) throw new Error('usage: hold-lab.ts BACKEND RUNS_ROOT TOPOLOGY_JSON [once]');
const topology = JSON.parse(readFileSync(topologyFile, 'utf8')) as LabTopology;
const lab = await startLab(topology, { backend, runsRoot, handleSignals: false });
process.stdout.write(`${lab.runId}\n`);
if (mode === 'once') await lab.stop();
else setInterval(() => undefined, 1 << 30);

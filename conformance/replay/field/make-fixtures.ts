// Writes every field scenario as a fixture folder: `npx tsx conformance/replay/field/make-fixtures.ts [ROOT]`
// (default ROOT: fixtures/). Deterministic: the recordings are synthesised, so re-running changes nothing.

import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeReplayFixture } from '../fixture.ts';
import { fieldScenarios } from './scenarios.ts';

const root = resolve(process.argv[2] ?? 'fixtures');
for (const scenario of fieldScenarios()) {
  const dir = join(root, scenario.name);
  rmSync(dir, { recursive: true, force: true });
  writeReplayFixture(dir, scenario.recording, scenario.fixture);
  process.stdout.write(`${dir}\n`);
}

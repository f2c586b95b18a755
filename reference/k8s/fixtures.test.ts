import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadClusterFolder } from './load.ts';

// The lab fixtures (written by the lab engineer) must load: this is the contract between a
// fixture's cluster/ folder and the reference. Read-only; nothing here edits them.

const fixturesDir = fileURLToPath(new URL('../../fixtures', import.meta.url));
const withCluster = existsSync(fixturesDir)
  ? readdirSync(fixturesDir).filter((name) => existsSync(join(fixturesDir, name, 'cluster')))
  : [];

describe.runIf(withCluster.length > 0)('fixtures/*/cluster load into the model', () => {
  it.each(withCluster)('%s', (name) => {
    const model = loadClusterFolder(join(fixturesDir, name, 'cluster'));
    expect(model.flavours.length).toBeGreaterThan(0);
    expect(model.nodes.length + model.bgpInstances.length).toBeGreaterThan(0);
  });
});

import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no root and runs in seconds (codec, IPAM, FSM, parsers);
// `lab` builds real namespaces and daemons, needs root, and runs one file at a time
// because labs compete for the machine's two cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['reference/**/*.test.ts', 'conformance/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/*.lab.test.ts', 'node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['reference/**/*.lab.test.ts', 'conformance/**/*.lab.test.ts'],
          exclude: ['node_modules/**'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

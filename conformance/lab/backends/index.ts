import type { BackendFactory } from '../backend.ts';
import { netnsBackend } from './netns.ts';

// Backends by name. The docker backend registers here once it exists (conformance/lab/backends/docker.ts).
export const backends: Record<string, BackendFactory> = {
  netns: netnsBackend,
};

export function backendFactory(name: string): BackendFactory {
  const factory = backends[name];
  if (!factory) throw new Error(`unknown lab backend "${name}" (known: ${Object.keys(backends).join(', ')})`);
  return factory;
}

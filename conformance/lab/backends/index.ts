import type { BackendFactory } from '../backend.ts';
import { dockerBackend } from './docker.ts';
import { netnsBackend } from './netns.ts';

// Backends by name.
export const backends: Record<string, BackendFactory> = {
  netns: netnsBackend,
  docker: dockerBackend,
};

export function backendFactory(name: string): BackendFactory {
  const factory = backends[name];
  if (!factory) throw new Error(`unknown lab backend "${name}" (known: ${Object.keys(backends).join(', ')})`);
  return factory;
}

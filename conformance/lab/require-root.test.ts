import { afterEach, describe, expect, it, vi } from 'vitest';
import { requireRoot } from './lab.ts';

describe('requireRoot', () => {
  afterEach(() => vi.restoreAllMocks());
  it('explains that the lab needs root', () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    expect(() => requireRoot()).toThrow(/the lab needs root \(network namespaces, veth, daemons\)/);
  });
  it('passes for root', () => {
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    expect(() => requireRoot()).not.toThrow();
  });
});

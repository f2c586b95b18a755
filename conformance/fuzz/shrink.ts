// Shrinking a finding: delta debugging (Zeller's ddmin) over the message sequence, then over the
// bytes of the last (guilty) message, each candidate re-run by the caller's `reproduces` on a
// fresh session. Both stop at a budget of tries, keeping the smallest that reproduced.
import { setHeaderLength } from '../../reference/bgp/wire/testdata/mutations.ts';

export interface ShrinkBudget {
  /** tries left; every call to `reproduces` spends one */
  tries: number;
}

/**
 * ddmin: the smallest subsequence (1-minimal when the budget allows) of `items` for which
 * `reproduces` holds; `items` itself is assumed to reproduce.
 */
export async function ddmin<T>(items: T[], reproduces: (candidate: T[]) => Promise<boolean>, budget: ShrinkBudget): Promise<T[]> {
  let current = items;
  let n = 2;
  while (current.length >= 2 && budget.tries > 0) {
    const size = Math.ceil(current.length / n);
    const chunks: T[][] = [];
    for (let i = 0; i < current.length; i += size) chunks.push(current.slice(i, i + size));
    let reduced = false;
    // a chunk alone, then everything but a chunk
    for (const chunk of chunks) {
      if (budget.tries <= 0) break;
      budget.tries--;
      if (await reproduces(chunk)) {
        current = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      for (let i = 0; i < chunks.length && budget.tries > 0; i++) {
        const complement = chunks.filter((_, j) => j !== i).flat();
        if (complement.length === 0) continue;
        budget.tries--;
        if (await reproduces(complement)) {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, n * 2);
    }
  }
  return current;
}

/**
 * The guilty message's body bytes shrunk by ddmin (header kept, its length field rewritten): e.g.
 * trailing NLRI or attributes the finding does not need. Candidates whose classification changes
 * simply fail to reproduce.
 */
export async function shrinkBytes(message: Uint8Array, reproduces: (candidate: Uint8Array) => Promise<boolean>, budget: ShrinkBudget): Promise<Uint8Array> {
  const header = Array.from(message.subarray(0, 19));
  const body = Array.from(message.subarray(19)).map((value, at) => ({ value, at }));
  const build = (kept: Array<{ value: number }>) => setHeaderLength(new Uint8Array([...header, ...kept.map((b) => b.value)]));
  const kept = await ddmin(body, (candidate) => reproduces(build(candidate)), budget);
  return build(kept);
}

// Delta debugging (Zeller's ddmin) over a failing list: try halves, then finer chunks and their
// complements, down to single items, keeping any subset that still fails. Pure: the predicate
// (a chaos re-run with those faults) is the caller's; each subset is tried at most once.

export interface ShrinkTry<T> {
  subset: T[];
  failed: boolean;
}

export interface ShrinkResult<T> {
  /** The smallest failing subset found (1-minimal unless the budget ran out). */
  minimal: T[];
  tries: Array<ShrinkTry<T>>;
  /** The budget of tries ran out before the result was 1-minimal. */
  exhausted: boolean;
}

export interface ShrinkOptions<T> {
  /** Most predicate calls (default 32). */
  maxTries?: number;
  /** Identity of an item, for the cache of tried subsets (default JSON). */
  key?: (item: T) => string;
  onTry?: (t: ShrinkTry<T>) => void;
}

function chunks<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((items.length - start) / (n - i));
    out.push(items.slice(start, end));
    start = end;
  }
  return out.filter((c) => c.length > 0);
}

/** `items` must fail the predicate; returns the smallest failing subset found, in original order. */
export async function shrink<T>(items: T[], fails: (subset: T[]) => Promise<boolean>, opts: ShrinkOptions<T> = {}): Promise<ShrinkResult<T>> {
  const maxTries = opts.maxTries ?? 32;
  const key = opts.key ?? ((x: T) => JSON.stringify(x));
  const seen = new Map<string, boolean>();
  const tries: Array<ShrinkTry<T>> = [];
  let exhausted = false;
  const test = async (subset: T[]): Promise<boolean | null> => {
    const k = subset.map(key).join('\u0000');
    const cached = seen.get(k);
    if (cached !== undefined) return cached;
    if (tries.length >= maxTries) {
      exhausted = true;
      return null;
    }
    const failed = await fails(subset);
    seen.set(k, failed);
    const t = { subset, failed };
    tries.push(t);
    opts.onTry?.(t);
    return failed;
  };

  let current = items;
  let n = 2;
  while (current.length > 1 && !exhausted) {
    const parts = chunks(current, Math.min(n, current.length));
    let reduced = false;
    for (const part of parts) {
      const r = await test(part);
      if (r === null) break;
      if (r) {
        current = part;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && !exhausted && parts.length > 2) {
      for (let i = 0; i < parts.length; i++) {
        const complement = parts.filter((_, j) => j !== i).flat();
        const r = await test(complement);
        if (r === null) break;
        if (r) {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (reduced) continue;
    if (exhausted || parts.length >= current.length) break;
    n = Math.min(n * 2, current.length);
  }
  return { minimal: current, tries, exhausted };
}

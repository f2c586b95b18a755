import { readdirSync, readFileSync } from 'node:fs';

// What /proc says about a process. /proc/PID/stat is "pid (comm) state ppid ...": comm may hold
// spaces and parentheses, so fields are counted from after the last ')'.

/** The fields of /proc/PID/stat after comm (0 = state, 1 = ppid, 19 = starttime), or null when it is gone. */
export function procStatFields(pid: number | 'self'): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Start time of a process (field 22 of /proc/PID/stat), so a recycled PID is not mistaken for the owner. */
export function processStartTime(pid: number): string | null {
  return procStatFields(pid)?.[19] ?? null;
}

/**
 * Whether the process a ledger entry names still runs: `pid` alive (not a zombie) and, when its
 * start time was recorded, started then. PIDs wrap (pid_max 32768 here, hit within minutes on a
 * busy machine), so without the start time a restarted daemon's old PID may be another process.
 */
export function ownProcessAlive(pid: number, start?: string): boolean {
  const fields = procStatFields(pid);
  return fields !== null && fields[0] !== 'Z' && (start === undefined || fields[19] === start);
}

/** `pid` and all its descendants now (host PIDs: the host's /proc sees the processes of namespaces and containers alike). */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStatFields(Number(entry));
    if (fields) parentOf.set(Number(entry), Number(fields[1])); // else it exited meanwhile
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  return tree;
}

// The TCP segments of every captured link of a case lab: the links the runner captures all
// along (each speaker node link, the fixture's own captures) plus captures a case starts for
// its traffic (started together; stopped by the caller, in finally).
import { speakerLinkCaptures } from '../cases/captures.ts';
import { tcpSegmentsInFile, type LinkSegments } from '../checks/traffic-paths.ts';
import { captureFileName, startCapture, type Capture } from '../lab/capture.ts';
import type { Lab } from '../lab/lab.ts';

/** "node:ifname" of the links the lab captures from bring-up to teardown. */
export function labCapturedLinks(lab: Lab): Set<string> {
  return new Set([
    ...speakerLinkCaptures(lab.topology).map((c) => `${c.node}:${c.ifname}`),
    ...lab.topology.nodes.flatMap((n) => n.capture.map((ifname) => `${n.name}:${ifname}`)),
  ]);
}

/**
 * tcpdump on each end the lab does not capture already, limited to `filter` (tcpdump words).
 * All start or none: a failure stops those already started and throws.
 */
export async function captureLinks(lab: Lab, ends: ReadonlyArray<{ node: string; ifname: string }>, filter: string[]): Promise<Capture[]> {
  const captured = labCapturedLinks(lab);
  const settled = await Promise.allSettled(
    ends
      .filter((e) => !captured.has(`${e.node}:${e.ifname}`))
      .map((e) => startCapture(lab.backend, lab.runDir, e.node, e.ifname, lab.nodeDir(e.node), filter)),
  );
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((c) => c.stop()));
    throw failed.reason;
  }
  return started;
}

/** Segments captured since `since` (seconds since the epoch) on the lab's links and on `own` captures (stop those first). */
export function readLinkSegments(lab: Lab, own: readonly Capture[], since: number): LinkSegments[] {
  const files = new Map<string, string>(own.map((c) => [`${c.node}:${c.ifname}`, c.file]));
  for (const link of labCapturedLinks(lab)) {
    const [node, ifname] = link.split(':') as [string, string];
    files.set(link, captureFileName(lab.runDir, node, ifname));
  }
  return [...files].map(([link, file]) => ({ link, segments: tcpSegmentsInFile(file, since) }));
}

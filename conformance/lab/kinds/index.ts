import type { DaemonKindName } from '../model.ts';
import { birdKind } from './bird.ts';
import { frrKind } from './frr.ts';
import { gobgpKind } from './gobgp.ts';
import type { DaemonKind } from './kind.ts';
import { openbgpdKind } from './openbgpd.ts';

export const daemonKinds: Record<DaemonKindName, DaemonKind> = {
  frr: frrKind,
  gobgp: gobgpKind,
  bird: birdKind,
  openbgpd: openbgpdKind,
};

export type { DaemonKind, NodeContext, RouteEntry, SessionState } from './kind.ts';

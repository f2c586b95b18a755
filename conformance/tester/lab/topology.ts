// The clause lab's topology: one SUT node and one tester node (a host carrying one address per
// tester slot) on one link. The SUT gets one neighbour per slot, configured as the slot's role
// says; every lab daemon kind renders these keys (passive, rr client, ADD-PATH, timers).
import { labLink, labNode, type DaemonKindName, type LabTopology, type Neighbor } from '../../lab/model.ts';
import type { SlotRole, TesterSlot } from '../sut.ts';

export const LAB_SUT_ASN = 65001;
export const LAB_SUT_ROUTER_ID = '10.255.0.1';
export const LAB_SUT_ADDRESS = '10.0.0.1';
export const LAB_SUT_ADDRESS6 = '2001:db8:1::1';
export const LAB_ORIGINATES = { ipv4: '192.0.2.0/24', ipv6: '2001:db8:ff::/48' };
/** What the SUT offers: hold 9 s, keepalive 3 s (connect retry 1 s and short idle holds are every kind's lab default). */
export const LAB_TIMERS = { keepalive: 3, hold: 9 };
export const SUT_NODE = 'sut';
export const TESTER_NODE = 'tester';
export const LINK_IF = 'eth1';
const TESTER_ASN_BASE = 65100;

/**
 * How many tester slots of each role the lab SUT is configured with. The iBGP and RR roles have a
 * few spare: a daemon may still hold a slot's last session (FRR answers a new connection with
 * Cease/Connection Collision) when the next test takes the slot at once.
 */
export const LAB_SLOTS: Record<SlotRole, number> = { ebgp: 24, ibgp: 8, 'ebgp-active': 3, 'rr-client': 4, addpath: 4, gr: 4 };

export function labSlots(counts: Record<SlotRole, number> = LAB_SLOTS): TesterSlot[] {
  const slots: TesterSlot[] = [];
  let host = 10;
  for (const [role, count] of Object.entries(counts) as Array<[SlotRole, number]>) {
    for (let k = 0; k < count; k++, host++) {
      const internal = role === 'ibgp' || role === 'rr-client';
      slots.push({ index: slots.length, role, address: `10.0.0.${host}`, address6: `2001:db8:1::${host}`, asn: internal ? LAB_SUT_ASN : TESTER_ASN_BASE + host, sutAddress: LAB_SUT_ADDRESS });
    }
  }
  return slots;
}

export function slotNeighbor(slot: TesterSlot): Neighbor {
  return {
    address: slot.address,
    asn: slot.asn,
    name: `slot${slot.index}`,
    passive: slot.role !== 'ebgp-active',
    families: ['ipv4-unicast', 'ipv6-unicast'],
    ...(slot.role === 'rr-client' ? { rrClient: true } : {}),
    ...(slot.role === 'addpath' ? { addPath: true } : {}),
  };
}

/**
 * The topology. `sutKind` is the daemon kind of a profile that runs one (a router, so it imports
 * and re-advertises what it learns); anything else (the reference, docker:, external:) is a
 * `speaker` node its hook drives.
 */
export function clauseLabTopology(slots: TesterSlot[], sutKind: DaemonKindName | 'speaker', errorWait?: number): LabTopology {
  const sut = labNode(SUT_NODE, sutKind, {
    asn: LAB_SUT_ASN,
    routerId: LAB_SUT_ROUTER_ID,
    interfaces: { [LINK_IF]: [`${LAB_SUT_ADDRESS}/24`, `${LAB_SUT_ADDRESS6}/64`] },
    neighbors: slots.map(slotNeighbor),
    announce: [LAB_ORIGINATES.ipv4, LAB_ORIGINATES.ipv6],
    timers: errorWait === undefined ? LAB_TIMERS : { ...LAB_TIMERS, errorWait },
    // Graceful restart is a per-router key in the lab model: every session offers it, which only
    // matters to a tester that offers it too (gr slots' tests).
    gracefulRestart: { restartTime: 30 },
    ...(sutKind === 'speaker' ? { importRoutes: true } : {}),
  });
  const tester = labNode(TESTER_NODE, 'host', { interfaces: { [LINK_IF]: slots.flatMap((s) => [`${s.address}/24`, ...(s.address6 ? [`${s.address6}/64`] : [])]) } });
  return { name: 'clause-lab', nodes: [sut, tester], links: [labLink(SUT_NODE, LINK_IF, TESTER_NODE, LINK_IF)] };
}

// The fuzz stream: from one seed, the messages every session sends, in order. A quarter are byte
// mutations of real messages (FRR/GoBGP/BIRD captures, the shared codec fuzz mutations), most of
// the rest grammar mutations (grammar.ts), a few well-formed UPDATEs (state for the RIB oracle)
// and mutated OPENs (each on a session of its own). Everything comes from the seeded PRNG, so
// the same seed sends the same bytes to a SUT that offers the same slots.
import { messageLengthAt } from '../../reference/bgp/wire/index.ts';
import { BYTE_MUTATIONS, pick, prng, SEED_MESSAGES } from '../../reference/bgp/wire/testdata/mutations.ts';
import { grammarOpen, grammarUpdate, validUpdate, type GrammarSession } from './grammar.ts';

export type CaseSource = 'grammar' | 'bytes' | 'valid' | 'open';

export interface FuzzCase {
  /** position in the stream (0-based) */
  index: number;
  source: CaseSource;
  label: string;
  bytes: Uint8Array;
}

/** Seeds sent inside an Established session: UPDATE, KEEPALIVE, ROUTE-REFRESH (never OPEN or NOTIFICATION). */
const IN_SESSION_SEEDS = SEED_MESSAGES.filter((m) => [2, 4, 5].includes(m.bytes[18]!));
const MUTATION_NAMES = Object.keys(BYTE_MUTATIONS);

/**
 * Whether a peer reads these bytes as exactly one message or refuses the header at once: a header
 * length that frames more or fewer bytes than were sent would swallow or split the next message,
 * and the verdict on both would be the framing's, not the mutation's.
 */
export function framesAlone(bytes: Uint8Array): boolean {
  if (bytes.length < 19) return false;
  const length = messageLengthAt(bytes, 0);
  if (length !== null && length !== bytes.length) return false;
  const type = bytes[18]!;
  return type !== 1 && type !== 3; // an OPEN or NOTIFICATION inside the session ends it by design
}

export class FuzzStream {
  private readonly random: () => number;
  private count = 0;

  constructor(readonly seed: number) {
    this.random = prng(seed);
  }

  /** Whether the next session is an ADD-PATH one (when the SUT has such slots). */
  nextSessionAddPath(available: boolean): boolean {
    return this.random() < 0.2 && available;
  }

  /** The next case; `open` cases start a session of their own. */
  next(session: GrammarSession & { bgpId: string; holdTime: number }): FuzzCase {
    const random = this.random;
    const index = this.count++;
    const roll = random();
    if (roll < 0.02) return { index, source: 'open', ...grammarOpen(random, session) };
    if (roll < 0.1) return { index, source: 'valid', ...validUpdate(random, session) };
    if (roll < 0.35) {
      for (;;) {
        const seed = IN_SESSION_SEEDS[pick(random, IN_SESSION_SEEDS.length)]!;
        const name = MUTATION_NAMES[pick(random, MUTATION_NAMES.length)]!;
        const bytes = BYTE_MUTATIONS[name]!(seed.bytes, random);
        if (framesAlone(bytes)) return { index, source: 'bytes', label: `${name} of ${seed.name}`, bytes };
      }
    }
    return { index, source: 'grammar', ...grammarUpdate(random, session) };
  }
}

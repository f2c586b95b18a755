// One clause-level test: an id, the RFC clause it checks with its requirement level, and a
// script the tester peer plays against the speaker under test (SUT). The catalogue of every
// clause test is clauses/index.ts; the runner is clauses/run.ts.
import type { RawOpen } from '../../reference/bgp/raw-peer.ts';
import type { RequirementLevel } from '../cases/catalog.ts';
import type { SlotRole, SutFeature, SutInfo, TesterSlot } from '../tester/sut.ts';
import type { TesterPeer } from '../tester/tester-peer.ts';

export interface ClauseContext {
  sut: SutInfo;
  /** The slots this test holds, in the order of its `slots`. */
  slots: TesterSlot[];
  /** A TCP connection from slot i to the SUT, no BGP message sent yet. */
  connect(i?: number): Promise<TesterPeer>;
  /**
   * An Established session from slot i: our OPEN (defaults: the slot's AS, its address as BGP
   * identifier, hold 9 s, defaultCapabilities; `open` overrides any of them), the SUT's OPEN and
   * KEEPALIVE, and our KEEPALIVEs every negotiated hold / 3 from then on.
   */
  establish(i?: number, open?: Partial<RawOpen>): Promise<TesterPeer>;
  /** The next connection the SUT opens to slot i (an ebgp-active slot), not yet OPEN. */
  accept(i?: number, timeoutMs?: number): Promise<TesterPeer>;
  /** The prefixes the SUT holds from slot i, or null when this SUT's RIB cannot be read. */
  receivedFrom(i?: number): Promise<Set<string> | null>;
  /** Ends the test as skipped with the reason (e.g. the SUT does not offer the capability). */
  skip(reason: string): never;
}

export interface ClauseTest {
  /** e.g. bgp.open.unsupported-version */
  id: string;
  /** "RFC 4271 6.2" */
  rfc: string;
  level: RequirementLevel;
  /** The test feeds bad input. */
  negative?: boolean;
  /** One line: what the SUT must do. */
  title: string;
  /** What the SUT must be configurable for; when it lacks one the test is skipped with the profile's reason. */
  needs?: SutFeature[];
  /** The tester slots the test uses, by role (default one ebgp slot). */
  slots?: SlotRole[];
  /** Default 30 s. */
  timeoutMs?: number;
  run(t: ClauseContext): Promise<void>;
}

export class ClauseSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ClauseSkipped';
  }
}

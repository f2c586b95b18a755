// Kubernetes-Lease-shaped objects kept as files in a directory that the announcer processes of
// all nodes share (they run on one machine in the lab), with compare-and-swap updates.
//
// Each lease is a folder holding one file per version: `<lease>/<version>.json`. A writer that
// read version N prepares the full file under a temporary name and publishes it with link() as
// version N+1. link() is an atomic rename that refuses to replace an existing name, so of two
// writers racing from N exactly one wins and the other gets a conflict, and no reader ever sees
// a half-written file. (A plain rename() would silently overwrite the winner.) The highest
// version is the lease.
//
// Old versions are pruned, but only once they are old: a pruned version number becomes free
// again, and a writer that read just before it was pruned could reuse it (the ABA problem).
// A writer's read-to-link window is one synchronous call, milliseconds; the age limit is
// thousands of times that.
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LeaseSpec {
  holderIdentity: string | null;
  /** Fractional seconds are allowed: the lab fails over in well under a second. */
  leaseDurationSeconds: number;
  acquireTime: string | null;
  renewTime: string | null;
  leaseTransitions: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; resourceVersion: string };
  spec: LeaseSpec;
}

export interface VersionedLease {
  lease: Lease;
  version: number;
}

export class LeaseFormatError extends Error {
  constructor(file: string, field: string, expected: string) {
    super(`${file}: lease field ${field} is not ${expected}`);
    this.name = 'LeaseFormatError';
  }
}

const VERSION_FILE = /^(\d{12})\.json$/;
const VERSIONS_KEPT = 4;
const PRUNE_AFTER_MS = 30_000;

export class FileLeaseStore {
  constructor(
    readonly directory: string,
    /** 0 prunes by count alone (tests); anything else must exceed any writer's read-to-write time. */
    private readonly pruneAfterMs = PRUNE_AFTER_MS,
  ) {
    mkdirSync(directory, { recursive: true });
  }

  /** The current version of lease `name`, or null if it was never written. */
  read(name: string): VersionedLease | null {
    for (;;) {
      const version = this.latestVersion(name);
      if (version === 0) return null;
      const file = this.versionFile(name, version);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // pruned under us: a newer one exists
        throw err;
      }
      return { lease: parseLease(text, file), version };
    }
  }

  /**
   * Writes `spec` as the version after `expectedVersion` (0: the lease must not exist yet).
   * Returns the new version, or null if someone else wrote that version first.
   */
  compareAndSwap(name: string, expectedVersion: number, spec: LeaseSpec): number | null {
    const folder = this.leaseFolder(name);
    mkdirSync(folder, { recursive: true });
    const version = expectedVersion + 1;
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, resourceVersion: String(version) },
      spec,
    };
    const temporary = join(folder, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(temporary, `${JSON.stringify(lease, null, 2)}\n`);
    try {
      linkSync(temporary, this.versionFile(name, version));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw err;
    } finally {
      unlinkSync(temporary);
    }
    this.prune(name, version);
    return version;
  }

  private leaseFolder(name: string): string {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
      throw new Error(`lease name "${name}" is not a Kubernetes object name (lowercase letters, digits, '-', '.')`);
    }
    return join(this.directory, name);
  }

  private versionFile(name: string, version: number): string {
    return join(this.leaseFolder(name), `${String(version).padStart(12, '0')}.json`);
  }

  private versions(name: string): number[] {
    let entries: string[];
    try {
      entries = readdirSync(this.leaseFolder(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const versions: number[] = [];
    for (const entry of entries) {
      const match = VERSION_FILE.exec(entry);
      if (match) versions.push(Number(match[1]));
    }
    return versions;
  }

  private latestVersion(name: string): number {
    return this.versions(name).reduce((a, b) => Math.max(a, b), 0);
  }

  private prune(name: string, newest: number): void {
    const cutoff = Date.now() - this.pruneAfterMs;
    for (const version of this.versions(name)) {
      if (version > newest - VERSIONS_KEPT) continue;
      const file = this.versionFile(name, version);
      try {
        if (this.pruneAfterMs > 0 && statSync(file).mtimeMs > cutoff) continue;
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // another writer pruned it
      }
    }
  }
}

function parseLease(text: string, file: string): Lease {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LeaseFormatError(file, '(document)', `JSON (${(err as Error).message})`);
  }
  const lease = value as Lease;
  if (typeof lease !== 'object' || lease === null || lease.kind !== 'Lease') throw new LeaseFormatError(file, 'kind', '"Lease"');
  const spec = lease.spec as unknown as Record<string, unknown>;
  if (typeof spec !== 'object' || spec === null) throw new LeaseFormatError(file, 'spec', 'an object');
  const nullableString = (field: string) => {
    if (spec[field] !== null && typeof spec[field] !== 'string') throw new LeaseFormatError(file, `spec.${field}`, 'a string or null');
  };
  nullableString('holderIdentity');
  nullableString('acquireTime');
  nullableString('renewTime');
  if (typeof spec.leaseDurationSeconds !== 'number' || !(spec.leaseDurationSeconds > 0)) {
    throw new LeaseFormatError(file, 'spec.leaseDurationSeconds', 'a positive number');
  }
  if (!Number.isInteger(spec.leaseTransitions)) throw new LeaseFormatError(file, 'spec.leaseTransitions', 'an integer');
  if (typeof spec.renewTime === 'string' && Number.isNaN(Date.parse(spec.renewTime))) {
    throw new LeaseFormatError(file, 'spec.renewTime', 'an RFC 3339 time');
  }
  return lease;
}

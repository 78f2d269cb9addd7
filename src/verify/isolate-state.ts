/**
 * Per-isolate memory of the key check. Plain data only (no I/O objects cross requests).
 */
import type { Permission } from "../domain/permissions";

/** A key row as the check caches it. */
export interface KeyRow {
  id: string;
  ownerId: string;
  name: string;
  permissions: Permission[];
  rateLimit: number;
  /** The owner's own account limit; null = the configured default. */
  accountRateLimit: number | null;
  projects: string[] | null;
  enabled: boolean;
  version: number;
  hash: string;
  previousHash: string | null;
  previousExpiresAtMs: number | null;
  expiresAtMs: number | null;
  revoked: boolean;
}

export type CacheEntry =
  | {
      kind: "key";
      row: KeyRow;
      /** When the row was read from Neon: it is never used more than ROW_MAX_AGE_MS after that. */
      readAtMs: number;
      /** When the marker (or a fresh read) last confirmed the row. */
      confirmedAtMs: number;
    }
  | { kind: "unknown" };

/** A backstop for a Redis that lost writes: a cached row is re-read this long after it was read. */
export const ROW_MAX_AGE_MS = 60_000;

/** Unknown hashes are remembered this long, so a wrong key costs no Neon query while it lasts. */
export const UNKNOWN_TTL_MS = 60_000;

/**
 * A per-isolate map bounded in entries and in time: each entry carries the moment it stops being
 * true, `get` never returns one past it, and every `set` drops the oldest entries once they have
 * ended (or when the map is full). Entries of one map share a lifetime bound, so insertion order
 * is close to end order and the sweep stays O(1) amortised.
 */
export class ExpiringMap<K, V> {
  private readonly map = new Map<K, { value: V; untilMs: number }>();
  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }
  get(key: K, nowMs: number): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (entry.untilMs > nowMs) return entry.value;
    this.map.delete(key);
    return undefined;
  }
  set(key: K, value: V, untilMs: number, nowMs: number): void {
    this.map.delete(key);
    this.map.set(key, { value, untilMs });
    for (const [oldest, entry] of this.map) {
      if (this.map.size <= this.maxEntries && entry.untilMs > nowMs) break;
      this.map.delete(oldest);
    }
  }
  delete(key: K): void {
    this.map.delete(key);
  }
}

/** Key records by SHA-256 of the presented key, each until it may no longer be used. */
export const keyCache = new ExpiringMap<string, CacheEntry>(10_000);

/** Failed-auth buckets known to be over their limit: the end of their window (unix ms). */
export const blockedClients = new ExpiringMap<string, number>(10_000);

/** Last-used gates this isolate opened, until they close: no need to ask Redis again meanwhile. */
export const openedGates = new ExpiringMap<string, true>(10_000);

/** After an Upstash failure, Upstash is skipped for this long (docs/DESIGN.md#failure-policy). */
export const BREAKER_OPEN_MS = 5_000;
/** While Upstash is skipped, a cached key is trusted this long after its last confirmation. */
export const UNCONFIRMED_TRUST_MS = 10_000;

let breakerOpenUntilMs = 0;
export const upstashBreaker = {
  isOpen: (nowMs: number) => nowMs < breakerOpenUntilMs,
  trip: (nowMs: number) => {
    breakerOpenUntilMs = nowMs + BREAKER_OPEN_MS;
  },
  reset: () => {
    breakerOpenUntilMs = 0;
  },
};

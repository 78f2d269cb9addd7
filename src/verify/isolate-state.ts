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
  | { kind: "unknown"; untilMs: number };

/** A backstop for a Redis that lost writes: a cached row is re-read this long after it was read. */
export const ROW_MAX_AGE_MS = 60_000;

/** Unknown hashes are remembered this long, so a wrong key costs no Neon query while it lasts. */
export const UNKNOWN_TTL_MS = 60_000;

/** A Map bounded by insertion order: the oldest entries leave first. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly maxEntries: number) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

/** Key records by SHA-256 of the presented key. */
export const keyCache = new BoundedMap<string, CacheEntry>(10_000);

/** Failed-auth buckets known to be over their limit, until their window resets (unix ms). */
export const blockedClients = new BoundedMap<string, number>(10_000);

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

/**
 * The key check of every /v1 request and of RPC `verify` (docs/DESIGN.md#the-key-check): gathers
 * the inputs — the per-isolate cache or one Neon row, then ONE Upstash request carrying the limit,
 * the marker read and the last-used gate — and applies the pure decision. I/O here, decisions in
 * decision.ts, storage in keys/.
 */
import type { ApiKeyRow } from "../db/schema";
import type { Permission } from "../domain/permissions";
import type { RequestStores } from "../http/stores";
import { LIMITER_PREFIX, lastUsedGateKey, markerKey } from "../keys/keyspace";
import { REVOKED_MARKER } from "../keys/marker";
import { findKeyByHash, touchLastUsed } from "../keys/repository";
import { hashKey } from "../keys/token";
import { slidingWindow } from "../limits/sliding-window";
import type { Logger } from "../observability/logger";
import { presentedKey } from "./credential";
import { atCurrentLimit, decide, denied, type KeyFacts, keyStatus, type Verdict } from "./decision";
import { blockedClient, countFailedAuth } from "./failed-auth";
import {
  type CacheEntry,
  type KeyRow,
  keyCache,
  UNCONFIRMED_TRUST_MS,
  UNKNOWN_TTL_MS,
  upstashBreaker,
} from "./isolate-state";
import { answeredRate, unaskedRate } from "./rate-headers";

/** The last-used gate opens at most once per this many seconds per key. */
const LAST_USED_GATE_SECONDS = 60;

export interface VerifyRequest {
  /** The presented key: the raw `Authorization` header (HTTP) or the key itself (RPC). */
  credential: string | null;
  from: "authorization-header" | "raw-key";
  /** CF-Connecting-IP; `null` skips the failed-auth limit (RPC callers are trusted Workers). */
  clientIp: string | null;
  required: Permission | null;
}

export interface VerifyContext {
  stores: RequestStores;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

type KnownEntry = Extract<CacheEntry, { kind: "key" }>;
type RowRead =
  | { kind: "key"; entry: KnownEntry }
  | { kind: "unknown" }
  | { kind: "unavailable"; verdict: Verdict };

function toKeyRow(row: ApiKeyRow): KeyRow {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    permissions: row.permissions as Permission[],
    rateLimit: row.rateLimit,
    version: row.version,
    hash: row.hash,
    previousHash: row.previousHash,
    previousExpiresAtMs: row.previousExpiresAt?.getTime() ?? null,
    expiresAtMs: row.expiresAt?.getTime() ?? null,
    revoked: row.revokedAt !== null,
  };
}

function factsOf(row: KeyRow, hash: string): KeyFacts {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    permissions: row.permissions,
    rateLimit: row.rateLimit,
    expiresAtMs: row.expiresAtMs,
    revoked: row.revoked,
    matched: row.hash === hash ? "current" : "previous",
    previousExpiresAtMs: row.previousExpiresAtMs,
  };
}

class VerifyRun {
  private readonly nowMs = Date.now();

  constructor(
    private readonly request: VerifyRequest,
    private readonly ctx: VerifyContext,
  ) {}

  async run(): Promise<Verdict> {
    const presented = presentedKey(this.request.credential, this.request.from);
    if (!presented.ok) return this.failedAuth(presented.code);
    const hash = await hashKey(presented.key);

    let entry = keyCache.get(hash);
    if (entry?.kind === "unknown" && entry.untilMs > this.nowMs) return this.failedAuth("invalid_key");
    let fresh = false;
    if (entry?.kind !== "key") {
      // A client already over its failed-auth limit costs no Neon query.
      const blocked = blockedClient(this.request.clientIp, this.nowMs);
      if (blocked) return blocked;
      const read = await this.readRow(hash);
      if (read.kind !== "key")
        return read.kind === "unavailable" ? read.verdict : this.failedAuth("invalid_key");
      entry = read.entry;
      fresh = true;
    }
    return this.checkKnownKey(hash, entry, fresh);
  }

  private failedAuth(code: Parameters<typeof countFailedAuth>[0]): Promise<Verdict> {
    return countFailedAuth(code, {
      clientIp: this.request.clientIp,
      nowMs: this.nowMs,
      redis: () => this.ctx.stores.redis,
      logger: this.ctx.logger,
      waitUntil: this.ctx.waitUntil,
    });
  }

  private async checkKnownKey(hash: string, entry: KnownEntry, fresh: boolean): Promise<Verdict> {
    let { row } = entry;
    if (upstashBreaker.isOpen(this.nowMs)) return this.withoutUpstash(hash, entry, fresh);

    let answer: Awaited<ReturnType<VerifyRun["askUpstash"]>>;
    try {
      answer = await this.askUpstash(row);
    } catch (error) {
      upstashBreaker.trip(this.nowMs);
      this.ctx.logger.log("warn", "upstash_unavailable", { error });
      return this.withoutUpstash(hash, entry, fresh);
    }

    const marker = answer.marker === null ? null : String(answer.marker);
    if (marker === REVOKED_MARKER) {
      row = { ...row, revoked: true };
      keyCache.set(hash, { kind: "key", row, confirmedAtMs: this.nowMs });
    } else if (marker === String(row.version)) {
      keyCache.set(hash, { kind: "key", row, confirmedAtMs: this.nowMs });
    } else {
      // The row changed since it was cached (or Redis lost the marker): the database decides.
      if (!fresh) {
        const read = await this.readRow(hash);
        if (read.kind === "unavailable") return read.verdict;
        if (read.kind === "unknown") return this.failedAuth("invalid_key");
        row = read.entry.row;
      }
      if (marker === null) this.ctx.waitUntil(this.restoreMarker(row));
    }

    const facts = factsOf(row, hash);
    const limit = atCurrentLimit(answer.limit, answer.askedLimit, row.rateLimit);
    const verdict = decide({
      key: facts,
      limit: {
        success: limit.success,
        rate: answeredRate("key", row.rateLimit, { ...limit, reset: answer.limit.reset }, this.nowMs),
      },
      required: this.request.required,
      nowMs: this.nowMs,
    });
    if (answer.gateOpened && keyStatus(facts, this.nowMs).ok) this.ctx.waitUntil(this.touchLastUsed(row.id));
    return verdict;
  }

  /** ONE request: the write pipeline carries limit() + GETEX marker + SET NX last-used gate. */
  private async askUpstash(row: KeyRow) {
    const redis = this.ctx.stores.redis;
    const [limit, marker, gate] = await Promise.all([
      slidingWindow(redis, LIMITER_PREFIX.key, row.rateLimit).limit(row.id),
      redis.getex<string | number>(markerKey(row.id)),
      redis.set(lastUsedGateKey(row.id), 1, { nx: true, ex: LAST_USED_GATE_SECONDS }),
    ]);
    this.ctx.waitUntil(limit.pending);
    return { limit, askedLimit: row.rateLimit, marker, gateOpened: gate === "OK" };
  }

  /** Breaker open: the limit fails open; a cached key is trusted ≤ 10 s since its last confirmation. */
  private async withoutUpstash(hash: string, entry: KnownEntry, fresh: boolean): Promise<Verdict> {
    let row = entry.row;
    if (!fresh && this.nowMs - entry.confirmedAtMs > UNCONFIRMED_TRUST_MS) {
      const read = await this.readRow(hash);
      if (read.kind === "unavailable") return read.verdict;
      if (read.kind === "unknown") return this.failedAuth("invalid_key");
      row = read.entry.row;
    }
    return decide({
      key: factsOf(row, hash),
      limit: { success: true, rate: unaskedRate("key", row.rateLimit, this.nowMs) },
      required: this.request.required,
      nowMs: this.nowMs,
    });
  }

  private async readRow(hash: string): Promise<RowRead> {
    let found: ApiKeyRow | undefined;
    try {
      found = await findKeyByHash(this.ctx.stores.db, hash);
    } catch (error) {
      this.ctx.logger.log("error", "neon_unavailable", { error });
      const rate = unaskedRate("key", 0, this.nowMs);
      return {
        kind: "unavailable",
        verdict: denied("service_unavailable", "Key verification is unavailable.", rate),
      };
    }
    if (!found) {
      keyCache.set(hash, { kind: "unknown", untilMs: this.nowMs + UNKNOWN_TTL_MS });
      return { kind: "unknown" };
    }
    const entry = { kind: "key" as const, row: toKeyRow(found), confirmedAtMs: this.nowMs };
    keyCache.set(hash, entry);
    return { kind: "key", entry };
  }

  /** Redis lost the marker: put it back, unless a writer got there first (NX). */
  private async restoreMarker(row: KeyRow): Promise<void> {
    try {
      const value = row.revoked ? REVOKED_MARKER : String(row.version);
      await this.ctx.stores.redis.set(markerKey(row.id), value, { nx: true });
    } catch (error) {
      this.ctx.logger.log("warn", "marker_restore_failed", { keyId: row.id, error });
    }
  }

  private async touchLastUsed(keyId: string): Promise<void> {
    try {
      await touchLastUsed(this.ctx.stores.db, keyId);
    } catch (error) {
      this.ctx.logger.log("warn", "last_used_update_failed", { keyId, error });
    }
  }
}

/** Verifies one presented key for one request. Never throws for bad input; 503s come back as verdicts. */
export function verify(request: VerifyRequest, ctx: VerifyContext): Promise<Verdict> {
  return new VerifyRun(request, ctx).run();
}

/**
 * The key check of every /v1 request and of RPC `verify` (docs/DESIGN.md#the-key-check): gathers
 * the inputs — the per-isolate cache or one Neon row, then ONE Upstash request carrying the limit,
 * the marker read and the last-used gate — and applies the pure decision. I/O here, decisions in
 * decision.ts, storage in keys/.
 */
import type { ApiKeyRow } from "../db/schema";
import type { Permission } from "../domain/permissions";
import type { RequestStores } from "../http/stores";
import { indexHas } from "../keys/hash-index";
import { LIMITER_PREFIX, lastUsedGateKey, markerKey } from "../keys/keyspace";
import { REVOKED_MARKER } from "../keys/marker";
import { findKeyByHash, touchLastUsed } from "../keys/repository";
import { hashKey } from "../keys/token";
import { forgetBlock, type LimitAnswer, slidingWindow } from "../limits/sliding-window";
import type { Logger } from "../observability/logger";
import { presentedKey } from "./credential";
import {
  type AuthFailure,
  atCurrentLimit,
  authFailure,
  decide,
  denied,
  type KeyFacts,
  keyStatus,
  type Verdict,
} from "./decision";
import { blockedClient, countFailedAuth } from "./failed-auth";
import {
  type CacheEntry,
  type KeyRow,
  keyCache,
  ROW_MAX_AGE_MS,
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

type Reconciled = { kind: "row"; row: KeyRow } | { kind: "verdict"; verdict: Verdict };

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
    if (entry?.kind === "key" && this.nowMs - entry.readAtMs <= ROW_MAX_AGE_MS) {
      return this.checkKnownKey(hash, entry, false);
    }
    if (entry?.kind !== "key") {
      // A client over its failed-auth limit costs no Neon query for a key that does not exist —
      // but a valid key is never refused for other clients' failures: the hash index tells them apart.
      const blocked = blockedClient(this.request.clientIp, this.nowMs);
      if (blocked && !(await this.indexed(hash))) return blocked;
    }
    const read = await this.readRow(hash);
    if (read.kind !== "key")
      return read.kind === "unavailable" ? read.verdict : this.failedAuth("invalid_key");
    entry = read.entry;
    return this.checkKnownKey(hash, entry, true);
  }

  private failedAuth(code: AuthFailure): Promise<Verdict> {
    return countFailedAuth(code, {
      clientIp: this.request.clientIp,
      nowMs: this.nowMs,
      redis: () => this.ctx.stores.redis,
      logger: this.ctx.logger,
      waitUntil: this.ctx.waitUntil,
    });
  }

  private async checkKnownKey(hash: string, entry: KnownEntry, fresh: boolean): Promise<Verdict> {
    if (upstashBreaker.isOpen(this.nowMs)) return this.withoutUpstash(hash, entry, fresh);
    const status = keyStatus(factsOf(entry.row, hash), this.nowMs);
    // A dead secret never touches the key's counter: it is a failed authentication of the client.
    if (!status.ok) return this.deadSecret(hash, entry, fresh, status.code);

    let answer: Awaited<ReturnType<VerifyRun["askUpstash"]>>;
    try {
      answer = await this.askUpstash(entry.row);
    } catch (error) {
      upstashBreaker.trip(this.nowMs);
      this.ctx.logger.log("warn", "upstash_unavailable", { error });
      return this.withoutUpstash(hash, entry, fresh);
    }
    const reconciled = await this.reconcile(answer.marker, hash, entry, fresh);
    if (reconciled.kind === "verdict") return reconciled.verdict;
    const { row } = reconciled;

    const facts = factsOf(row, hash);
    const now = keyStatus(facts, this.nowMs);
    if (!now.ok) {
      // Found dead only after the limiter counted it: give the count back.
      if (answer.limit.success) this.ctx.waitUntil(this.refund(row.id, answer.askedLimit));
      return this.failedAuth(now.code);
    }
    const limit = await this.limitAtCurrent(row, answer.limit, answer.askedLimit);
    const verdict = decide({
      key: facts,
      limit: { success: limit.success, rate: answeredRate("key", row.rateLimit, limit, this.nowMs) },
      required: this.request.required,
      nowMs: this.nowMs,
    });
    if (answer.gateOpened) this.ctx.waitUntil(this.touchLastUsed(row.id));
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

  /**
   * The reader's side of the marker protocol: a cached row is used only while the marker shows its
   * version; `changing` or any other value means the database decides, for this request.
   */
  private async reconcile(
    rawMarker: string | number | null | undefined,
    hash: string,
    entry: KnownEntry,
    fresh: boolean,
  ): Promise<Reconciled> {
    const marker = rawMarker === null || rawMarker === undefined ? null : String(rawMarker);
    let row = entry.row;
    if (marker === REVOKED_MARKER || marker === String(row.version)) {
      if (marker === REVOKED_MARKER) row = { ...row, revoked: true };
      keyCache.set(hash, { ...entry, row, confirmedAtMs: this.nowMs });
      return { kind: "row", row };
    }
    if (!fresh) {
      const read = await this.readRow(hash);
      if (read.kind === "unavailable") return { kind: "verdict", verdict: read.verdict };
      if (read.kind === "unknown") return { kind: "verdict", verdict: await this.failedAuth("invalid_key") };
      row = read.entry.row;
    }
    // A lost marker is put back; `changing` belongs to a writer still at work (or one that died).
    if (marker === null) this.ctx.waitUntil(this.restoreMarker(row));
    return { kind: "row", row };
  }

  /**
   * The limiter's answer at the key's current limit. After a limit change a block remembered by
   * this isolate is forgotten, and a refusal under the old limit is asked again under the new one.
   */
  private async limitAtCurrent(row: KeyRow, answer: LimitAnswer, askedLimit: number) {
    if (askedLimit === row.rateLimit) return answer;
    forgetBlock(LIMITER_PREFIX.key, row.id);
    if (answer.success) return { ...atCurrentLimit(answer, askedLimit, row.rateLimit), reset: answer.reset };
    try {
      const again = await slidingWindow(this.ctx.stores.redis, LIMITER_PREFIX.key, row.rateLimit).limit(
        row.id,
      );
      this.ctx.waitUntil(again.pending);
      return again;
    } catch (error) {
      this.ctx.logger.log("warn", "upstash_unavailable", { error });
      return { success: true, remaining: row.rateLimit, reset: 0 };
    }
  }

  /**
   * The cached row says this secret is dead. Revoked is final, and a fresh row is the database's
   * word; otherwise the marker (read in the same request as the failed-auth count) says whether the
   * row still holds — an extended expiry would revive the key.
   */
  private async deadSecret(
    hash: string,
    entry: KnownEntry,
    fresh: boolean,
    code: AuthFailure,
  ): Promise<Verdict> {
    if (fresh || entry.row.revoked) return this.failedAuth(code);
    const [verdict, marker] = await Promise.all([
      this.failedAuth(code),
      this.ctx.stores.redis.getex<string | number>(markerKey(entry.row.id)).catch(() => undefined),
    ]);
    if (marker === undefined || String(marker) === String(entry.row.version)) return verdict;
    const read = await this.readRow(hash);
    if (read.kind === "unavailable") return read.verdict;
    if (read.kind === "unknown") return verdict;
    const status = keyStatus(factsOf(read.entry.row, hash), this.nowMs);
    if (status.ok) return this.checkKnownKey(hash, read.entry, true);
    return verdict.allow || verdict.code === "rate_limited"
      ? verdict
      : authFailure(status.code, verdict.rate);
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
    const facts = factsOf(row, hash);
    const status = keyStatus(facts, this.nowMs);
    if (!status.ok) return this.failedAuth(status.code);
    return decide({
      key: facts,
      limit: { success: true, rate: unaskedRate("key", row.rateLimit, this.nowMs) },
      required: this.request.required,
      nowMs: this.nowMs,
    });
  }

  /** Whether the hash index knows this hash; an index that cannot be asked knows nothing. */
  private async indexed(hash: string): Promise<boolean> {
    if (upstashBreaker.isOpen(this.nowMs)) return false;
    try {
      return await indexHas(this.ctx.stores.redis, hash);
    } catch (error) {
      upstashBreaker.trip(this.nowMs);
      this.ctx.logger.log("warn", "upstash_unavailable", { error });
      return false;
    }
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
    const entry = {
      kind: "key" as const,
      row: toKeyRow(found),
      readAtMs: this.nowMs,
      confirmedAtMs: this.nowMs,
    };
    keyCache.set(hash, entry);
    return { kind: "key", entry };
  }

  /** Gives back the count of a request that turned out to carry a dead secret. */
  private async refund(keyId: string, limit: number): Promise<void> {
    try {
      const refunded = await slidingWindow(this.ctx.stores.redis, LIMITER_PREFIX.key, limit).limit(keyId, {
        rate: -1,
      });
      await refunded.pending;
    } catch (error) {
      this.ctx.logger.log("warn", "limit_refund_failed", { keyId, error });
    }
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

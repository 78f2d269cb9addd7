/**
 * The key check of every /v1 request and of RPC `verify` (DESIGN §4): gathers the inputs — the
 * per-isolate cache or one Neon row, then ONE Upstash request carrying the limit, the marker read
 * and the last-used gate — and applies the pure decision. I/O here, decisions in decision.ts.
 */
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import { eq, or, sql } from "drizzle-orm";
import type { Config } from "../config/env";
import { createDb } from "../db/client";
import { apiKeys } from "../db/schema";
import type { Permission } from "../domain/permissions";
import type { ErrorCode } from "../http/errors";
import { markerKey, REVOKED_MARKER } from "../keys/marker";
import { hashKey } from "../keys/token";
import type { Logger } from "../observability/logger";
import { createRedis } from "../redis/client";
import { clientBucket } from "./client-bucket";
import { presentedKey } from "./credential";
import { atCurrentLimit, decide, type KeyFacts, keyStatus, type Verdict } from "./decision";
import {
  blockedClients,
  type CacheEntry,
  type KeyRow,
  keyCache,
  limiterCache,
  UNCONFIRMED_TRUST_MS,
  UNKNOWN_TTL_MS,
  upstashBreaker,
} from "./isolate-state";
import { type RateState, unaskedRate, WINDOW_SECONDS, windowEnd } from "./rate-headers";

/** Failed authentications allowed per client bucket per minute. */
export const FAILED_AUTH_LIMIT = 30;
const KEY_LIMIT_PREFIX = "vk:rl:key";
const FAILED_AUTH_PREFIX = "vk:rl:auth-failed";
const lastUsedGate = (keyId: string) => `vk:lu:${keyId}`;

export interface VerifyRequest {
  /** The presented key: the raw `Authorization` header (HTTP) or the key itself (RPC). */
  credential: string | null;
  from: "authorization-header" | "raw-key";
  /** CF-Connecting-IP; `null` skips the failed-auth limit (RPC callers are trusted Workers). */
  clientIp: string | null;
  required: Permission | null;
}

export interface VerifyContext {
  config: Config;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

function denied(code: ErrorCode, detail: string, rate: RateState): Verdict {
  return { allow: false, code, detail, rate };
}

function toKeyRow(row: typeof apiKeys.$inferSelect): KeyRow {
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
  private redisClient: Redis | undefined;

  constructor(
    private readonly request: VerifyRequest,
    private readonly ctx: VerifyContext,
  ) {}

  private get redis(): Redis {
    this.redisClient ??= createRedis(this.ctx.config);
    return this.redisClient;
  }

  async run(): Promise<Verdict> {
    const presented = presentedKey(this.request.credential, this.request.from);
    if (!presented.ok) return this.failedAuth(presented.code);
    const hash = await hashKey(presented.key);

    let entry = keyCache.get(hash);
    if (entry?.kind === "unknown" && entry.untilMs > this.nowMs) return this.failedAuth("invalid_key");
    let fresh = false;
    if (entry?.kind !== "key") {
      // A client already over its failed-auth limit costs no Neon query.
      const blocked = this.blockedRate();
      if (blocked) return denied("rate_limited", "Too many failed authentications.", blocked);
      const read = await this.readRow(hash);
      if (read.kind !== "key")
        return read.kind === "unavailable" ? read.verdict : this.failedAuth("invalid_key");
      entry = read.entry;
      fresh = true;
    }
    return this.checkKnownKey(hash, entry, fresh);
  }

  private async checkKnownKey(
    hash: string,
    entry: Extract<CacheEntry, { kind: "key" }>,
    fresh: boolean,
  ): Promise<Verdict> {
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
      limit: { success: limit.success, rate: this.keyRate(row, { ...limit, reset: answer.limit.reset }) },
      required: this.request.required,
      nowMs: this.nowMs,
    });
    if (answer.gateOpened && keyStatus(facts, this.nowMs).ok) this.ctx.waitUntil(this.touchLastUsed(row.id));
    return verdict;
  }

  /** ONE request: the write pipeline carries limit() + GETEX marker + SET NX last-used gate. */
  private async askUpstash(row: KeyRow) {
    const limiter = new Ratelimit({
      redis: this.redis,
      limiter: Ratelimit.slidingWindow(row.rateLimit, `${WINDOW_SECONDS} s`),
      prefix: KEY_LIMIT_PREFIX,
      ephemeralCache: limiterCache,
      timeout: 0, // our client's own 500 ms deadline applies; a fake "success" must not hide a failure
    });
    const [limit, marker, gate] = await Promise.all([
      limiter.limit(row.id),
      this.redis.getex<string | number>(markerKey(row.id)),
      this.redis.set(lastUsedGate(row.id), 1, { nx: true, ex: 60 }),
    ]);
    this.ctx.waitUntil(limit.pending);
    return { limit, askedLimit: row.rateLimit, marker, gateOpened: gate === "OK" };
  }

  private keyRate(row: KeyRow, limit: { remaining: number; reset: number }): RateState {
    // A limiter that answered without a window (e.g. timeout) still reports the real limit and window.
    const resetMs = limit.reset > 0 ? limit.reset : windowEnd(this.nowMs);
    return {
      policy: "key",
      limit: row.rateLimit,
      remaining: limit.remaining,
      resetMs,
      windowSeconds: WINDOW_SECONDS,
    };
  }

  /** Breaker open: the limit fails open; a cached key is trusted ≤ 10 s since its last confirmation. */
  private async withoutUpstash(
    hash: string,
    entry: Extract<CacheEntry, { kind: "key" }>,
    fresh: boolean,
  ): Promise<Verdict> {
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

  private async readRow(
    hash: string,
  ): Promise<
    | { kind: "key"; entry: Extract<CacheEntry, { kind: "key" }> }
    | { kind: "unknown" }
    | { kind: "unavailable"; verdict: Verdict }
  > {
    let rows: (typeof apiKeys.$inferSelect)[];
    try {
      rows = await createDb(this.ctx.config)
        .select()
        .from(apiKeys)
        .where(or(eq(apiKeys.hash, hash), eq(apiKeys.previousHash, hash)));
    } catch (error) {
      this.ctx.logger.log("error", "neon_unavailable", { error });
      const rate = unaskedRate("key", 0, this.nowMs);
      return {
        kind: "unavailable",
        verdict: denied("service_unavailable", "Key verification is unavailable.", rate),
      };
    }
    const [found] = rows;
    if (!found) {
      keyCache.set(hash, { kind: "unknown", untilMs: this.nowMs + UNKNOWN_TTL_MS });
      return { kind: "unknown" };
    }
    const entry = { kind: "key" as const, row: toKeyRow(found), confirmedAtMs: this.nowMs };
    keyCache.set(hash, entry);
    return { kind: "key", entry };
  }

  /** Counts a failed authentication against the client's bucket: 401, or 429 once over the limit. */
  private async failedAuth(code: ErrorCode): Promise<Verdict> {
    const detail =
      code === "missing_key"
        ? "Send the API key as Authorization: Bearer vk_sk_…"
        : code === "malformed_key"
          ? "The API key is malformed."
          : "The API key is not valid.";
    if (this.request.clientIp === null) return denied(code, detail, unaskedRate("key", 0, this.nowMs));
    const blocked = this.blockedRate();
    if (blocked) return denied("rate_limited", "Too many failed authentications.", blocked);
    if (upstashBreaker.isOpen(this.nowMs))
      return denied(code, detail, unaskedRate("ip", FAILED_AUTH_LIMIT, this.nowMs));

    const bucket = clientBucket(this.request.clientIp);
    try {
      const limiter = new Ratelimit({
        redis: this.redis,
        limiter: Ratelimit.slidingWindow(FAILED_AUTH_LIMIT, `${WINDOW_SECONDS} s`),
        prefix: FAILED_AUTH_PREFIX,
        ephemeralCache: limiterCache,
        timeout: 0,
      });
      const result = await limiter.limit(bucket);
      this.ctx.waitUntil(result.pending);
      const resetMs = result.reset > 0 ? result.reset : windowEnd(this.nowMs);
      const rate: RateState = {
        policy: "ip",
        limit: FAILED_AUTH_LIMIT,
        remaining: result.remaining,
        resetMs,
        windowSeconds: WINDOW_SECONDS,
      };
      // With nothing remaining, this client's next failure is refused here, before any Neon query.
      if (!result.success || result.remaining <= 0) blockedClients.set(bucket, resetMs);
      return result.success
        ? denied(code, detail, rate)
        : denied("rate_limited", "Too many failed authentications.", rate);
    } catch (error) {
      upstashBreaker.trip(this.nowMs);
      this.ctx.logger.log("warn", "upstash_unavailable", { error });
      return denied(code, detail, unaskedRate("ip", FAILED_AUTH_LIMIT, this.nowMs));
    }
  }

  /** The failed-auth state of a bucket this isolate already saw over its limit. */
  private blockedRate(): RateState | undefined {
    if (this.request.clientIp === null) return undefined;
    const until = blockedClients.get(clientBucket(this.request.clientIp));
    if (until === undefined || until <= this.nowMs) return undefined;
    return {
      policy: "ip",
      limit: FAILED_AUTH_LIMIT,
      remaining: 0,
      resetMs: until,
      windowSeconds: WINDOW_SECONDS,
    };
  }

  /** Redis lost the marker: put it back, unless a writer got there first (NX). */
  private async restoreMarker(row: KeyRow): Promise<void> {
    try {
      await this.redis.set(markerKey(row.id), row.revoked ? REVOKED_MARKER : String(row.version), {
        nx: true,
      });
    } catch (error) {
      this.ctx.logger.log("warn", "marker_restore_failed", { keyId: row.id, error });
    }
  }

  private async touchLastUsed(keyId: string): Promise<void> {
    try {
      await createDb(this.ctx.config)
        .update(apiKeys)
        .set({ lastUsedAt: sql`now()` })
        .where(eq(apiKeys.id, keyId));
    } catch (error) {
      this.ctx.logger.log("warn", "last_used_update_failed", { keyId, error });
    }
  }
}

/** Verifies one presented key for one request. Never throws for bad input; 503s come back as verdicts. */
export function verify(request: VerifyRequest, ctx: VerifyContext): Promise<Verdict> {
  return new VerifyRun(request, ctx).run();
}

/**
 * The key check of every /v1 request and of RPC `verify` (docs/DESIGN.md#the-key-check): gathers
 * the inputs — the per-isolate cache or one Neon row, then ONE Upstash request carrying the limit,
 * the marker read and the last-used gate — and applies the pure decision. I/O here, decisions in
 * decision.ts, storage in keys/.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Permission } from "../domain/permissions";
import type { RequestStores } from "../http/stores";
import { type RegionSyncState, touchKey } from "../keys/check-script";
import { indexHas } from "../keys/hash-index";
import { markerKey } from "../keys/keyspace";
import { REVOKED_MARKER } from "../keys/marker";
import { copyIsCurrent, raiseCopy, SYNC_INTERVAL_MS, SYNC_STALE_MS, syncRegion } from "../keys/marker-sync";
import { findKeyByHash, type KeyCheckRow, touchLastUsed } from "../keys/repository";
import { hashKey } from "../keys/token";
import { type UsageOutcome, usageHour } from "../keys/usage";
import { leasedWindow } from "../limits/leased-window";
import { slidingWindow } from "../limits/sliding-window";
import type { Logger } from "../observability/logger";
import { presentedKey } from "./credential";
import {
  type AuthFailure,
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
  openedGates,
  ROW_MAX_AGE_MS,
  UNCONFIRMED_TRUST_MS,
  UNKNOWN_TTL_MS,
  upstashBreaker,
} from "./isolate-state";
import { factsOf, subjectOf, toKeyRow, usageOutcome } from "./key-facts";
import {
  askLimits,
  atCurrentLimits,
  giveBack,
  type LimiterFor,
  limitsAnswered,
  limitsReport,
  refusedBy,
  settledAccount,
} from "./key-limits";
import { unaskedRate } from "./rate-headers";

/** A cached row is used until ROW_MAX_AGE_MS after its Neon read, however often it is confirmed. */
function cacheRow(hash: string, entry: KnownEntry, nowMs: number): void {
  keyCache.set(hash, entry, entry.readAtMs + ROW_MAX_AGE_MS, nowMs);
}

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
  /** The account limit of an owner without one of their own (`ACCOUNT_RATE_LIMIT`). */
  accountLimitDefault: number;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

type KnownEntry = Extract<CacheEntry, { kind: "key" }>;
type RowRead =
  | { kind: "key"; entry: KnownEntry }
  | { kind: "unknown" }
  | { kind: "unavailable"; verdict: Verdict };

type Reconciled = { kind: "row"; row: KeyRow } | { kind: "verdict"; verdict: Verdict };

class VerifyRun {
  private readonly nowMs = Date.now();
  private readonly hour = usageHour(this.nowMs);
  private readonly leased: boolean;
  /** A region's own database checks this request: its markers are copies (docs/DESIGN.md#regions). */
  private readonly regional: boolean;
  /** The database the check asks: the primary, or under `leased` the region's. */
  private readonly checkRedis: Redis;
  private readonly limiterFor: LimiterFor;

  constructor(
    private readonly request: VerifyRequest,
    private readonly ctx: VerifyContext,
  ) {
    const stores = ctx.stores;
    const topology = stores.config.keyCheck;
    this.leased = topology.topology === "leased";
    this.regional = !stores.region.home;
    this.checkRedis = stores.checkRedis;
    const checkRedis = this.checkRedis;
    this.limiterFor =
      topology.topology === "leased"
        ? (prefix, limit) =>
            leasedWindow(
              {
                local: checkRedis,
                primary: stores.redis,
                regions: topology.regions.length + 1,
                logger: ctx.logger,
              },
              prefix,
              limit,
            )
        : (prefix, limit) => slidingWindow(checkRedis, prefix, limit);
  }

  /**
   * Where usage and the last-used gate are counted: the check's own request, except in a region,
   * where they go to the primary after the verdict (one background request) so that they stay global.
   */
  private get usageRedis(): Redis {
    return this.regional ? this.ctx.stores.redis : this.checkRedis;
  }

  async run(): Promise<Verdict> {
    const presented = presentedKey(this.request.credential, this.request.from);
    if (!presented.ok) return this.failedAuth(presented.code);
    const hash = await hashKey(presented.key);

    const entry = keyCache.get(hash, this.nowMs);
    if (entry?.kind === "unknown") return this.failedAuth("invalid_key");
    if (entry?.kind === "key") return this.checkKnownKey(hash, entry, false);
    // A client over its failed-auth limit costs no Neon query for a key that does not exist —
    // but a valid key is never refused for other clients' failures: the hash index tells them apart.
    const blocked = blockedClient(this.request.clientIp, this.nowMs);
    if (blocked && !(await this.indexed(hash))) return blocked;
    const read = await this.readRow(hash);
    if (read.kind !== "key")
      return read.kind === "unavailable" ? read.verdict : this.failedAuth("invalid_key");
    return this.checkKnownKey(hash, read.entry, true);
  }

  private failedAuth(code: AuthFailure): Promise<Verdict> {
    return countFailedAuth(code, {
      clientIp: this.request.clientIp,
      nowMs: this.nowMs,
      redis: () => this.checkRedis,
      logger: this.ctx.logger,
      waitUntil: this.ctx.waitUntil,
    });
  }

  private facts(row: KeyRow, hash: string): KeyFacts {
    return factsOf(row, hash, this.ctx.accountLimitDefault);
  }

  private get effects() {
    return { limiterFor: this.limiterFor, logger: this.ctx.logger, waitUntil: this.ctx.waitUntil };
  }

  private async checkKnownKey(hash: string, entry: KnownEntry, fresh: boolean): Promise<Verdict> {
    if (upstashBreaker.isOpen(this.nowMs)) return this.withoutUpstash(hash, entry, fresh);
    const cached = this.facts(entry.row, hash);
    const status = keyStatus(cached, this.nowMs);
    // A dead secret never touches the key's counter: it is a failed authentication of the client.
    if (!status.ok) return this.deadSecret(hash, entry, fresh, status.code);

    let answer: Awaited<ReturnType<VerifyRun["askUpstash"]>>;
    try {
      answer = await this.askUpstash(cached);
    } catch (error) {
      upstashBreaker.trip(this.nowMs);
      this.ctx.logger.log("warn", "upstash_unavailable", { error });
      return this.withoutUpstash(hash, entry, fresh);
    }
    const { counted } = answer;
    const reconciled = await this.reconcile(answer.marker, answer.sync, hash, entry, fresh);
    if (reconciled.kind === "verdict") {
      giveBack(subjectOf(cached), answer.limits, this.effects);
      return this.recounted(cached.id, counted, reconciled.verdict);
    }
    const facts = this.facts(reconciled.row, hash);
    const subject = subjectOf(facts);
    const now = keyStatus(facts, this.nowMs);
    if (!now.ok) {
      // Found dead only after the limits counted it: give the counts back.
      giveBack(subject, answer.limits, this.effects);
      return this.recounted(facts.id, counted, await this.failedAuth(now.code));
    }
    const limits = await atCurrentLimits(subject, answer.limits, this.effects);
    const refused = refusedBy(limits);
    if (refused) giveBack(subject, limits, this.effects);
    const rate = limitsReport(limits, this.nowMs);
    const verdict = decide({
      key: facts,
      limit: refused ? { success: false, hit: refused, rate } : { success: true, rate },
      required: this.request.required,
      nowMs: this.nowMs,
    });
    if (answer.gateOpened) this.ctx.waitUntil(this.touchLastUsed(facts.id));
    return this.recounted(facts.id, counted, verdict, this.regional);
  }

  /**
   * ONE request of two commands: the key's limit and the check script (marker, last-used gate,
   * usage, account window). Usage is counted as the outcome known before asking; `recounted` moves
   * it when the answers change it (a 429 a limit answered, a key found changed). Leased: the key's
   * and the account's leases and the check script, in the region's one request; in a region the
   * script reads the marker copy and its sync state, and usage waits for the verdict.
   */
  private async askUpstash(facts: KeyFacts) {
    const redis = this.checkRedis;
    const subject = subjectOf(facts);
    const asked = askLimits(this.limiterFor, subject, this.nowMs, this.leased ? "limiter" : "script");
    const lacking = this.request.required !== null && !facts.permissions.includes(this.request.required);
    const guess: UsageOutcome = asked.spent ? "limited" : lacking ? "denied" : "ok";
    const counted = this.regional ? null : guess;
    // A gate this isolate opened is still shut: asking Redis to open it again would only say no.
    const gateShut = openedGates.get(facts.id, this.nowMs) !== undefined;
    const touching = touchKey(redis, {
      keyId: facts.id,
      hour: this.hour,
      outcome: counted,
      gateSeconds: gateShut || this.regional ? 0 : LAST_USED_GATE_SECONDS,
      account: asked.account.kind === "script" ? asked.account.window : undefined,
      sync: this.regional ? { nowMs: this.nowMs, intervalMs: SYNC_INTERVAL_MS } : undefined,
    });
    // A claimed sync starts as soon as the script answers, not after a lease that waits for a grant:
    // its start is the copy's next stamp.
    touching.then(
      (touch) => {
        if (touch.sync?.claimed)
          this.ctx.waitUntil(syncRegion(this.ctx.stores.redis, redis, touch.sync, this.ctx.logger));
      },
      () => undefined,
    );
    const [key, touch, account] = await Promise.all([asked.key, touching, settledAccount(asked.account)]);
    const limits = limitsAnswered(subject, account, key, touch.accountRemaining);
    if (touch.gateOpened) this.gateOpened(facts.id);
    this.ctx.waitUntil(limits.key.answer.pending);
    this.ctx.waitUntil(limits.account.answer.pending);
    return { limits, counted, marker: touch.marker, sync: touch.sync, gateOpened: touch.gateOpened };
  }

  private gateOpened(keyId: string): void {
    openedGates.set(keyId, true, this.nowMs + LAST_USED_GATE_SECONDS * 1000, this.nowMs);
  }

  /**
   * The verdict, with the request's usage moved to the outcome it ended with. `openGate`: usage waited
   * for the verdict (in a region), and the last-used gate goes with it.
   */
  private recounted(
    keyId: string,
    counted: UsageOutcome | null,
    verdict: Verdict,
    openGate = false,
  ): Verdict {
    const gateSeconds =
      openGate && openedGates.get(keyId, this.nowMs) === undefined ? LAST_USED_GATE_SECONDS : 0;
    this.moveUsage(keyId, counted, usageOutcome(verdict), gateSeconds);
    return verdict;
  }

  private moveUsage(
    keyId: string,
    from: UsageOutcome | null,
    to: UsageOutcome | null,
    gateSeconds = 0,
  ): void {
    if (from === to && gateSeconds === 0) return;
    // One command: the check script with the gate left alone moves the count.
    this.ctx.waitUntil(
      touchKey(this.usageRedis, {
        keyId,
        hour: this.hour,
        outcome: to,
        takeBack: from,
        gateSeconds,
      })
        .then((touched) => {
          if (!touched.gateOpened) return;
          this.gateOpened(keyId);
          return this.touchLastUsed(keyId);
        })
        .catch((error) => this.ctx.logger.log("warn", "usage_recount_failed", { keyId, error })),
    );
  }

  /**
   * The reader's side of the marker protocol: a cached row is used only while the marker shows its
   * version; `changing` or any other value means the database decides, for this request. A region's
   * copy that has not synced within the last second (or was rebuilt since the row was read) cannot
   * confirm a row: a row read from Neon within that second is used, else Neon decides.
   */
  private async reconcile(
    rawMarker: string | number | null | undefined,
    sync: RegionSyncState | null,
    hash: string,
    entry: KnownEntry,
    fresh: boolean,
  ): Promise<Reconciled> {
    const marker = rawMarker === null || rawMarker === undefined ? null : String(rawMarker);
    let row = entry.row;
    // A region's copy can always refute a row (it shows another value), but it confirms one only
    // while it is current: else a row read within the last second stands in for the confirmation.
    const confirms =
      sync === null || (copyIsCurrent(sync.syncedAtMs, this.nowMs) && entry.readAtMs >= sync.epochMs);
    if (marker === REVOKED_MARKER || marker === String(row.version)) {
      if (marker === REVOKED_MARKER) row = { ...row, revoked: true };
      if (confirms) {
        cacheRow(hash, { ...entry, row, confirmedAtMs: this.nowMs }, this.nowMs);
        return { kind: "row", row };
      }
      if (row.revoked || fresh || this.nowMs - entry.readAtMs <= SYNC_STALE_MS) return { kind: "row", row };
    }
    if (!fresh) {
      const read = await this.readRow(hash);
      if (read.kind === "unavailable") return { kind: "verdict", verdict: read.verdict };
      if (read.kind === "unknown") return { kind: "verdict", verdict: await this.failedAuth("invalid_key") };
      row = read.entry.row;
    }
    // A lost marker is put back; `changing` belongs to a writer still at work (or one that died).
    // A region's copy behind the row (a sync it missed) is raised to it.
    if (marker === null || (this.regional && Number(marker) < row.version))
      this.ctx.waitUntil(this.restoreMarker(row));
    return { kind: "row", row };
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
    const keyId = entry.row.id;
    const [verdict, touched] = await Promise.all([
      this.failedAuth(code),
      !upstashBreaker.isOpen(this.nowMs)
        ? touchKey(this.checkRedis, {
            keyId,
            hour: this.hour,
            outcome: this.regional ? null : "denied",
            gateSeconds: 0,
          }).catch(() => undefined)
        : undefined,
    ]);
    if (this.regional) this.moveUsage(keyId, null, "denied");
    const holds = touched === undefined || touched.marker === String(entry.row.version);
    if (fresh || entry.row.revoked || holds) return verdict;
    const read = await this.readRow(hash);
    if (read.kind === "unavailable") return this.recounted(keyId, "denied", read.verdict);
    if (read.kind === "unknown") return verdict;
    const status = keyStatus(this.facts(read.entry.row, hash), this.nowMs);
    if (status.ok) {
      // The key lives after all: the check below counts it afresh.
      this.moveUsage(keyId, "denied", null);
      return this.checkKnownKey(hash, read.entry, true);
    }
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
    const facts = this.facts(row, hash);
    const status = keyStatus(facts, this.nowMs);
    if (!status.ok) return this.failedAuth(status.code);
    const rate = [
      unaskedRate("key", facts.rateLimit, this.nowMs),
      unaskedRate("account", facts.accountRateLimit, this.nowMs),
    ] as const;
    return decide({
      key: facts,
      limit: { success: true, rate },
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
    let found: KeyCheckRow | undefined;
    try {
      found = await findKeyByHash(this.ctx.stores.db, hash);
    } catch (error) {
      this.ctx.logger.log("error", "neon_unavailable", { error });
      const rate = [unaskedRate("key", 0, this.nowMs)] as const;
      return {
        kind: "unavailable",
        verdict: denied("service_unavailable", "Key verification is unavailable.", rate),
      };
    }
    if (!found) {
      keyCache.set(hash, { kind: "unknown" }, this.nowMs + UNKNOWN_TTL_MS, this.nowMs);
      return { kind: "unknown" };
    }
    const entry = {
      kind: "key" as const,
      row: toKeyRow(found),
      readAtMs: this.nowMs,
      confirmedAtMs: this.nowMs,
    };
    cacheRow(hash, entry, this.nowMs);
    return { kind: "key", entry };
  }

  /**
   * Redis lost the marker: put it back, unless a writer got there first (NX). A region's copy is
   * repaired the monotonic way: filled, or raised to the row's version, never past a `changing`.
   */
  private async restoreMarker(row: KeyRow): Promise<void> {
    try {
      const value = row.revoked ? REVOKED_MARKER : row.version;
      if (this.regional) await raiseCopy(this.checkRedis, row.id, value);
      else await this.checkRedis.set(markerKey(row.id), String(value), { nx: true });
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

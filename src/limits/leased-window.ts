/**
 * The leased limiter of the `leased` topology (docs/DESIGN.md#leases): a region admits from a lease
 * in its own database, in the key check's one regional request; the primary grants leases in
 * batches against the same sliding-window estimate as the single-primary limiter (the previous
 * minute weighted by what is left of it, plus this minute's grants). A region never admits more
 * than it was granted, so the world never admits more than the primary granted; a lease left
 * unspent at its minute's end is lost (fewer admitted, never more).
 *
 * Same answers as `slidingWindow(…).limit()`: rate 1 counts, 0 only reads, −1 gives one back.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { grantedKey, leaseKey } from "../keys/keyspace";
import type { Logger } from "../observability/logger";
import { runScript, type Script } from "../redis/script";
import { blockUntil, isBlocked, type LimitAnswer, WINDOW_SECONDS } from "./sliding-window";

const WINDOW_MS = WINDOW_SECONDS * 1000;

/** A grant is at most this share of the limit (at least 1). */
export const BATCH_SHARE = 1 / 16;
/** A grant is asked in the background once the lease holds less than this share of a batch. */
const LOW_WATER_SHARE = 0.5;
/** After a refused grant the isolate refuses the identifier locally this long, then asks again. */
export const GRANT_RETRY_MS = 1000;
/** After a grant that failed (primary unreachable) the limit fails open this long without asking. */
export const GRANT_BREAKER_MS = 5000;

/**
 * KEYS: lease (a hash: `n` left, `limit` it was granted under), the previous minute's lease. ARGV:
 * rate, ttl ms, limit. rate > 0 spends, 0 reads, < 0 credits. What the previous minute's lease still
 * holds, and a lease granted under another limit, are dropped and handed back (the caller returns
 * them to the primary's counts), so the estimate counts what was admitted and a changed limit is in
 * force at once. Returns {1 admitted / 0, left, handed back now, handed back for the previous minute}.
 */
export const SPEND_SCRIPT: Script = {
  source: `local held = redis.call('HMGET', KEYS[1], 'n', 'limit')
local left = tonumber(held[1] or '0')
local rate = tonumber(ARGV[1])
local handed = 0
if held[2] and held[2] ~= ARGV[3] then
  handed = left
  left = 0
  redis.call('DEL', KEYS[1])
end
local before = tonumber(redis.call('HGET', KEYS[2], 'n') or '0')
if before > 0 then redis.call('DEL', KEYS[2]) end
if rate < 0 then
  left = redis.call('HINCRBY', KEYS[1], 'n', -rate)
  redis.call('HSET', KEYS[1], 'limit', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, left, handed, before}
end
if rate == 0 or left < rate then return {rate == 0 and 1 or 0, left, handed, before} end
return {1, redis.call('HINCRBY', KEYS[1], 'n', -rate), handed, before}`,
  sha1: "7871a9d14a1fd99a1cbe090da995bfa04ff13382",
};

/**
 * KEYS: granted this minute, granted the previous one. ARGV: limit, batch, weight of the previous
 * minute, ttl ms, regions, handed back for this minute, for the previous one (taken off first). A
 * grant is at most a batch and at most half of one region's share of what is left, so the leases
 * that end the minute unspent stay small. Returns {grant, left after it}.
 */
export const GRANT_SCRIPT: Script = {
  source: `for i = 1, 2 do
  local back = tonumber(ARGV[5 + i])
  if back > 0 and redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECRBY', KEYS[i], back) end
end
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
local before = tonumber(redis.call('GET', KEYS[2]) or '0')
local left = tonumber(ARGV[1]) - math.floor(before * tonumber(ARGV[3])) - now
local grant = math.min(tonumber(ARGV[2]), math.ceil(left / (2 * tonumber(ARGV[5]))), left)
if grant <= 0 then return {0, math.max(left, 0)} end
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {grant, left - grant}`,
  sha1: "ef2e564555a395628c43de1c9d1eeb74ba24f997",
};

/** What a spend handed back, to go off the primary's counts with the next grant. */
interface HandedBack {
  now: number;
  before: number;
}
const NOTHING_BACK: HandedBack = { now: 0, before: 0 };

export interface LeaseStores {
  /** The region's database (the primary itself for the home region). */
  local: Redis;
  primary: Redis;
  /** How many regions share every budget (the home region included). */
  regions: number;
  logger: Logger;
}

/**
 * Per isolate, plain data only (no promise crosses requests): what the world had left after the
 * last grant this isolate saw land, and which leases have a grant on its way.
 */
const worldLeft = new Map<string, number>();
const refilling = new Map<string, number>();
const MEMORY_MAX = 10_000;
/** A grant not answered by then (its request cut short) no longer holds back the next one. */
const REFILL_WAIT_MS = 2000;
let grantsFailingUntil = 0;

function remember(map: Map<string, number>, key: string, value: number): void {
  if (map.size >= MEMORY_MAX && !map.has(key)) map.clear();
  map.set(key, value);
}

/** Forgets this isolate's lease memory and closes the grant breaker (tests, after a fault). */
export function resetLeaseMemory(): void {
  worldLeft.clear();
  refilling.clear();
  grantsFailingUntil = 0;
}

/**
 * The most a lease is granted at once. Two of them bound how far a minute can end under the limit
 * per isolate and region: the one in the lease and the one on its way when the last requests of the
 * minute were decided.
 */
export const leaseBatch = (limit: number) => Math.max(1, Math.floor(limit * BATCH_SHARE));

export class LeasedWindow {
  constructor(
    private readonly stores: LeaseStores,
    private readonly prefix: string,
    private readonly tokens: number,
  ) {}

  async limit(identifier: string, req?: { rate?: number }): Promise<LimitAnswer> {
    const rate = req?.rate ?? 1;
    const nowMs = Date.now();
    const window = Math.floor(nowMs / WINDOW_MS);
    const reset = (window + 1) * WINDOW_MS;
    const answer = (success: boolean, remaining: number, pending: Promise<unknown> = Promise.resolve()) => ({
      success,
      limit: this.tokens,
      remaining: Math.max(0, remaining),
      reset,
      pending,
    });
    if (rate > 0 && isBlocked(this.prefix, identifier, nowMs)) {
      return { ...answer(false, 0), reason: "cacheBlock" };
    }
    const lease = leaseKey(this.prefix, identifier, window);
    const { spent, left, back } = await this.spend(identifier, window, rate);
    const known = () => worldLeft.get(lease) ?? 0;
    if (rate <= 0 || spent) {
      const low = rate > 0 && left < this.batch * LOW_WATER_SHARE;
      const refill = low ? this.refillInBackground(identifier, window, nowMs, back) : undefined;
      // Handed back and no grant to carry it: a grant of nothing does.
      const returned =
        !refill && (back.now || back.before) ? this.grant(identifier, window, 0, back) : undefined;
      return answer(true, left + known(), Promise.all([refill, returned]));
    }
    // The lease is empty: a grant of one, for this request alone, decides (a trip to the primary);
    // the lease's next batch is asked beside it. Concurrent requests that found it empty so never
    // hold grants they cannot use: all of them together are granted at most what is left.
    if (nowMs < grantsFailingUntil) return { ...answer(true, this.tokens - 1), reason: "timeout" };
    // This request's grant first: the primary answers the two in order, so what it says is left
    // already counts this request (and what was handed back), and the batch's answer is the later.
    const asked = this.grant(identifier, window, 1, back);
    const refill = this.refillInBackground(identifier, window, nowMs, NOTHING_BACK);
    const granted = await asked;
    if (granted === null) {
      // The primary cannot be asked: the limit fails open, as for an unreachable Upstash.
      return { ...answer(true, this.tokens - 1, refill), reason: "timeout" };
    }
    if (granted.grant === 1) return answer(true, granted.left + left, refill);
    // None left anywhere: refused here for a second, then asked again — the estimate frees budget
    // as the minute goes on.
    blockUntil(this.prefix, identifier, Math.min(reset, nowMs + GRANT_RETRY_MS));
    return answer(false, 0, refill);
  }

  private get batch(): number {
    return leaseBatch(this.tokens);
  }

  /** Spends (or credits) the lease of this minute; what it handed back is for the next grant. */
  private async spend(identifier: string, window: number, rate: number) {
    const [spent, left, now, before] = await runScript<[number, number, number, number]>(
      this.stores.local,
      SPEND_SCRIPT,
      [leaseKey(this.prefix, identifier, window), leaseKey(this.prefix, identifier, window - 1)],
      [String(rate), String(WINDOW_MS), String(this.tokens)],
    );
    const back: HandedBack = { now: Number(now) || 0, before: Number(before) || 0 };
    return { spent: Number(spent) === 1, left: Number(left), back };
  }

  /** A batch for the region's lease, asked unless this isolate already has one on its way. */
  private refillInBackground(identifier: string, window: number, nowMs: number, back: HandedBack) {
    const lease = leaseKey(this.prefix, identifier, window);
    const asked = refilling.get(lease);
    if (asked !== undefined && asked > nowMs - REFILL_WAIT_MS) return undefined;
    remember(refilling, lease, nowMs);
    return (async () => {
      try {
        const granted = await this.grant(identifier, window, this.batch, back);
        if (!granted?.grant) return;
        const credited = await this.spend(identifier, window, -granted.grant);
        remember(worldLeft, lease, granted.left);
        if (credited.back.now || credited.back.before) await this.grant(identifier, window, 0, credited.back);
      } finally {
        refilling.delete(lease);
      }
    })().catch(() => undefined);
  }

  /** Asks the primary for `size`; null when it could not be asked. */
  private async grant(
    identifier: string,
    window: number,
    size: number,
    back: HandedBack,
  ): Promise<{ grant: number; left: number } | null> {
    const nowMs = Date.now();
    try {
      const [grant, left] = await runScript<[number, number]>(
        this.stores.primary,
        GRANT_SCRIPT,
        [grantedKey(this.prefix, identifier, window), grantedKey(this.prefix, identifier, window - 1)],
        [
          String(this.tokens),
          String(size),
          String(1 - (nowMs % WINDOW_MS) / WINDOW_MS),
          String(2 * WINDOW_MS),
          String(this.stores.regions),
          String(back.now),
          String(back.before),
        ],
      );
      return { grant: Number(grant), left: Number(left) };
    } catch (error) {
      grantsFailingUntil = Date.now() + GRANT_BREAKER_MS;
      this.stores.logger.log("warn", "lease_grant_failed", { prefix: this.prefix, error });
      return null;
    }
  }
}

export function leasedWindow(stores: LeaseStores, prefix: string, limit: number): LeasedWindow {
  return new LeasedWindow(stores, prefix, limit);
}

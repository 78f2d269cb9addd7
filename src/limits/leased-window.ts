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

/** KEYS: lease. ARGV: rate, ttl ms. rate > 0 spends, 0 reads, < 0 credits. Returns {1 admitted / 0, left}. */
export const SPEND_SCRIPT: Script = {
  source: `local left = tonumber(redis.call('GET', KEYS[1]) or '0')
local rate = tonumber(ARGV[1])
if rate < 0 then
  left = redis.call('INCRBY', KEYS[1], -rate)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, left}
end
if rate == 0 then return {1, left} end
if left < rate then return {0, left} end
return {1, redis.call('DECRBY', KEYS[1], rate)}`,
  sha1: "b82b8ab39a267077c747e1d529723fefd3b919b2",
};

/**
 * KEYS: granted this minute, granted the previous one. ARGV: limit, batch, weight of the previous
 * minute, ttl ms, regions. A grant is at most a batch and at most half of one region's share of what
 * is left, so the leases that end the minute unspent stay small. Returns {grant, left after it}.
 */
export const GRANT_SCRIPT: Script = {
  source: `local now = tonumber(redis.call('GET', KEYS[1]) or '0')
local before = tonumber(redis.call('GET', KEYS[2]) or '0')
local left = tonumber(ARGV[1]) - math.floor(before * tonumber(ARGV[3])) - now
local grant = math.min(tonumber(ARGV[2]), math.ceil(left / (2 * tonumber(ARGV[5]))), left)
if grant <= 0 then return {0, math.max(left, 0)} end
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {grant, left - grant}`,
  sha1: "be342f62fc1538581143e5a6669fdda4386c5df5",
};

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

/** Forgets this isolate's lease memory (tests). */
export function resetLeaseMemory(): void {
  worldLeft.clear();
  refilling.clear();
  grantsFailingUntil = 0;
}

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
    const [spent, left] = await this.spend(lease, rate);
    const known = () => worldLeft.get(lease) ?? 0;
    if (rate <= 0 || spent) {
      const asked = refilling.get(lease);
      const low =
        rate > 0 && left < this.batch * LOW_WATER_SHARE && !(asked && asked > nowMs - REFILL_WAIT_MS);
      const pending = low ? this.refill(identifier, window, 0).catch(() => undefined) : undefined;
      return answer(true, left + known(), pending);
    }
    // The lease is empty: one grant decides (a trip to the primary), spent at once on landing.
    const granted = nowMs < grantsFailingUntil ? null : await this.refill(identifier, window, rate);
    if (granted === null) {
      // The primary cannot be asked: the limit fails open, as for an unreachable Upstash.
      return { ...answer(true, this.tokens - 1), reason: "timeout" };
    }
    if (granted.admitted) return answer(true, granted.left + known());
    // None left anywhere: refused here for a second, then asked again — the estimate frees budget
    // as the minute goes on.
    blockUntil(this.prefix, identifier, Math.min(reset, nowMs + GRANT_RETRY_MS));
    return answer(false, 0);
  }

  private get batch(): number {
    return Math.max(1, Math.floor(this.tokens * BATCH_SHARE));
  }

  private async spend(lease: string, rate: number): Promise<[boolean, number]> {
    const [spent, left] = await runScript<[number, number]>(
      this.stores.local,
      SPEND_SCRIPT,
      [lease],
      [String(rate), String(WINDOW_MS)],
    );
    return [Number(spent) === 1, Number(left)];
  }

  /**
   * Asks the primary for one batch and credits it to the region's lease, `spending` of it at once.
   * Null when the primary could not be asked; `admitted` false when it granted nothing.
   */
  private async refill(
    identifier: string,
    window: number,
    spending: number,
  ): Promise<{ admitted: boolean; left: number } | null> {
    const lease = leaseKey(this.prefix, identifier, window);
    const nowMs = Date.now();
    remember(refilling, lease, nowMs);
    try {
      let reply: [number, number];
      try {
        reply = await runScript<[number, number]>(
          this.stores.primary,
          GRANT_SCRIPT,
          [grantedKey(this.prefix, identifier, window), grantedKey(this.prefix, identifier, window - 1)],
          [
            String(this.tokens),
            String(this.batch),
            String(1 - (nowMs % WINDOW_MS) / WINDOW_MS),
            String(2 * WINDOW_MS),
            String(this.stores.regions),
          ],
        );
      } catch (error) {
        grantsFailingUntil = Date.now() + GRANT_BREAKER_MS;
        this.stores.logger.log("warn", "lease_grant_failed", { prefix: this.prefix, error });
        return null;
      }
      const grant = Number(reply[0]);
      if (grant < spending) return { admitted: false, left: 0 };
      // One command credits the grant and spends this request's share of it.
      const [, left] = await this.spend(lease, spending - grant);
      remember(worldLeft, lease, Number(reply[1]));
      return { admitted: true, left };
    } finally {
      refilling.delete(lease);
    }
  }
}

export function leasedWindow(stores: LeaseStores, prefix: string, limit: number): LeasedWindow {
  return new LeasedWindow(stores, prefix, limit);
}

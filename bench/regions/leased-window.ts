/**
 * Design (c), a PROTOTYPE measured in the simulator only (docs/SCALING.md#c-leased-budget): each
 * region spends a key's budget from a lease in its own database, in the key check's one local
 * request; the primary grants leases in batches, against the same sliding-window estimate as
 * today's limiter (previous minute weighted by what is left of it, plus this minute's grants).
 * Grants travel in the background while the lease lasts; an empty lease waits for one grant, and
 * after a refused one the isolate refuses locally for a second before asking again.
 * A region never spends more than it was granted, so the world never admits more than the
 * primary granted; what a region was granted and did not spend is lost at the minute's end.
 */
import { createHash } from "node:crypto";
import { workerData } from "node:worker_threads";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../../src/config/env";
import { type LimitAnswer, limiterCache, WINDOW_SECONDS } from "../../src/limits/sliding-window";
import { createRedis } from "../../src/redis/client";
import type { IsolateSetup } from "./protocol";

export * from "../../src/limits/sliding-window";

const WINDOW_MS = WINDOW_SECONDS * 1000;
const { primaryRedis, regions: REGIONS } = workerData as IsolateSetup;

/** Leases are granted in batches of this share of L (at least 1): 4 regions × 4 batches = L. */
const BATCH_SHARE = 1 / 16;
/** A grant is asked for in the background once the lease holds fewer than this share of a batch. */
const LOW_WATER_SHARE = 0.5;

/** After a refused grant (none left, or the primary not reachable), the key is refused locally this long. */
const GRANT_RETRY_MS = 1000;

/** KEYS: lease. ARGV: rate, ttl ms. Spends `rate` from the lease; rate ≤ 0 gives back / reads. */
const SPEND = `local left = tonumber(redis.call('GET', KEYS[1]) or '0')
local rate = tonumber(ARGV[1])
if rate <= 0 then
  if rate < 0 then left = redis.call('INCRBY', KEYS[1], -rate); redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return {1, left}
end
if left < rate then return {0, left} end
left = redis.call('DECRBY', KEYS[1], rate)
return {1, left}`;

/**
 * KEYS: granted this window, granted the previous one. ARGV: limit, batch, weight of previous,
 * ttl ms, regions. A grant is at most a batch and at most half of one region's share of what is
 * left, so the leases that end the minute unspent stay small.
 */
const GRANT = `local now = tonumber(redis.call('GET', KEYS[1]) or '0')
local before = tonumber(redis.call('GET', KEYS[2]) or '0')
local left = tonumber(ARGV[1]) - math.ceil(before * tonumber(ARGV[3])) - now
local grant = math.min(tonumber(ARGV[2]), math.ceil(left / (2 * tonumber(ARGV[5]))), left)
if grant <= 0 then return 0 end
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return grant`;

/** KEYS: lease. ARGV: grant, ttl ms. */
const CREDIT = `local left = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return left`;

const sha1 = (script: string) => createHash("sha1").update(script).digest("hex");
const SCRIPTS = { spend: SPEND, grant: GRANT, credit: CREDIT } as const;
const SHAS = { spend: sha1(SPEND), grant: sha1(GRANT), credit: sha1(CREDIT) } as const;

async function run<T>(
  redis: Redis,
  script: keyof typeof SCRIPTS,
  keys: string[],
  args: string[],
): Promise<T> {
  try {
    return await redis.evalsha<string[], T>(SHAS[script], keys, args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
    return await redis.eval<string[], T>(SCRIPTS[script], keys, args);
  }
}

/** One grant in flight per lease and isolate. */
const refilling = new Map<string, Promise<number>>();

/** Asks the primary for one batch and credits what it granted to the region's lease. */
function refill(
  local: Redis,
  prefix: string,
  identifier: string,
  limit: number,
  window: number,
): Promise<number> {
  const lease = `${prefix}:${identifier}:lease:${window}`;
  const pending = refilling.get(lease);
  if (pending) return pending;
  const nowMs = Date.now();
  const batch = Math.max(1, Math.floor(limit * BATCH_SHARE));
  const weight = 1 - (nowMs % WINDOW_MS) / WINDOW_MS;
  const primary = createRedis({ redis: primaryRedis } as Config);
  const asked = (async () => {
    const granted = Number(
      await run<number>(
        primary,
        "grant",
        [`${prefix}:${identifier}:granted:${window}`, `${prefix}:${identifier}:granted:${window - 1}`],
        [String(limit), String(batch), String(weight), String(2 * WINDOW_MS), String(REGIONS)],
      ),
    );
    if (granted > 0) await run(local, "credit", [lease], [String(granted), String(WINDOW_MS)]);
    return granted;
  })().finally(() => refilling.delete(lease));
  refilling.set(lease, asked);
  return asked;
}

class LeasedWindow {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly tokens: number,
  ) {}

  async limit(identifier: string, req?: { rate?: number }): Promise<LimitAnswer> {
    const rate = req?.rate ?? 1;
    const window = Math.floor(Date.now() / WINDOW_MS);
    const reset = (window + 1) * WINDOW_MS;
    const cacheKey = `${this.prefix}:${identifier}`;
    const blockedUntil = limiterCache.get(cacheKey);
    if (rate > 0 && blockedUntil !== undefined && blockedUntil >= Date.now()) {
      return {
        success: false,
        limit: this.tokens,
        remaining: 0,
        reset: blockedUntil,
        pending: Promise.resolve(),
        reason: "cacheBlock",
      };
    }
    const lease = `${this.prefix}:${identifier}:lease:${window}`;
    const spend = () =>
      run<[number, number]>(this.redis, "spend", [lease], [String(rate), String(WINDOW_MS)]);
    let [spent, left] = await spend();
    let pending: Promise<unknown> = Promise.resolve();
    const batch = Math.max(1, Math.floor(this.tokens * BATCH_SHARE));
    if (rate > 0 && Number(spent) !== 1) {
      // Empty: one grant decides (a trip to the primary); none left worldwide is a refusal until the minute ends.
      const granted = await refill(this.redis, this.prefix, identifier, this.tokens, window).catch(
        () => null,
      );
      if (granted === null) {
        // The primary cannot be asked: refused, and asked again in a second (never fail open).
        limiterCache.set(cacheKey, Date.now() + GRANT_RETRY_MS);
        return { success: false, limit: this.tokens, remaining: 0, reset, pending, reason: "timeout" };
      }
      if (granted > 0) [spent, left] = await spend();
    } else if (rate > 0 && Number(left) < batch * LOW_WATER_SHARE) {
      pending = refill(this.redis, this.prefix, identifier, this.tokens, window);
    }
    const success = Number(spent) === 1;
    // The estimate frees budget as the minute goes on: ask again in a second, not at its end.
    if (!success) limiterCache.set(cacheKey, Math.min(reset, Date.now() + GRANT_RETRY_MS));
    return { success, limit: this.tokens, remaining: Math.max(0, Number(left)), reset, pending };
  }
}

export function slidingWindow(redis: Redis, prefix: string, limit: number): LeasedWindow {
  return new LeasedWindow(redis, prefix, limit);
}

import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";

/** Every limit of the service counts requests per minute. */
export const WINDOW_SECONDS = 60;

/**
 * The limiter's block cache: identifier → the time its block ends. A `Map` (the library requires
 * one) bounded in entries, whose oldest entries leave first — at once when their block has ended.
 * Entries go in roughly in order of their end, so the sweep from the oldest side stays O(1) amortised.
 */
export class BlockCache extends Map<string, number> {
  constructor(readonly maxEntries: number) {
    super();
  }

  override set(identifier: string, blockedUntilMs: number): this {
    super.delete(identifier);
    super.set(identifier, blockedUntilMs);
    const now = Date.now();
    for (const [oldest, until] of this) {
      if (this.size <= this.maxEntries && until >= now) break;
      super.delete(oldest);
    }
    return this;
  }
}

/**
 * Shared by every limiter of this isolate on purpose: plain data, no I/O object. Its keys are
 * `<prefix>:<identifier>`, qualified by the library.
 */
export const limiterCache = new BlockCache(10_000);

/** Forgets that a key's limiter blocked it: a changed limit must not be outlived by the block. */
export function forgetBlock(prefix: string, identifier: string): void {
  limiterCache.delete(`${prefix}:${identifier}`);
}

/** Whether this isolate remembers the identifier as over its limit (then the limiter answers without Redis). */
export function isBlocked(prefix: string, identifier: string, nowMs: number): boolean {
  const until = limiterCache.get(`${prefix}:${identifier}`);
  return until !== undefined && until >= nowMs;
}

/** When the block this isolate remembers for the identifier ends, if it remembers one. */
export function blockEnd(prefix: string, identifier: string): number | undefined {
  return limiterCache.get(`${prefix}:${identifier}`);
}

/** Remembers a refusal until `untilMs`, as the library does for its own: a limit asked outside it. */
export function blockUntil(prefix: string, identifier: string, untilMs: number): void {
  limiterCache.set(`${prefix}:${identifier}`, untilMs);
}

export type LimitAnswer = Awaited<ReturnType<Ratelimit["limit"]>>;

type Algorithm = ReturnType<typeof Ratelimit.slidingWindow>;

/**
 * The algorithm for a limit holds no I/O object (only the limit and the window), so it is made once
 * per limit and isolate; at most ALGORITHMS_MAX limits are remembered (then the memory starts over).
 */
const algorithms = new Map<number, Algorithm>();
export const ALGORITHMS_MAX = 2_048;

function algorithmFor(limit: number): Algorithm {
  let algorithm = algorithms.get(limit);
  if (!algorithm) {
    if (algorithms.size >= ALGORITHMS_MAX) algorithms.clear();
    algorithm = Ratelimit.slidingWindow(limit, `${WINDOW_SECONDS} s`);
    algorithms.set(limit, algorithm);
  }
  return algorithm;
}

/** How many limits this isolate holds an algorithm for (bounded by ALGORITHMS_MAX). */
export const algorithmCount = () => algorithms.size;

/**
 * The one way to build a sliding-window limiter: per request (it holds the request's Redis client),
 * one minute, the shared block cache, and no library timeout — the Redis client's own deadline
 * applies, and the library's timeout would fake a success that hides a failure.
 */
export function slidingWindow(redis: Redis, prefix: string, limit: number): Ratelimit {
  return new Ratelimit({
    redis,
    limiter: algorithmFor(limit),
    prefix,
    ephemeralCache: limiterCache,
    timeout: 0,
  });
}

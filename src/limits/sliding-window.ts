import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";

/** Every limit of the service counts requests per minute. */
export const WINDOW_SECONDS = 60;

/**
 * The limiter's per-isolate block cache, shared by every limiter on purpose: plain data, no I/O
 * object (docs/DESIGN.md#failure-policy). Its keys are prefix-qualified by the library.
 */
export const limiterCache = new Map<string, number>();

export type LimitAnswer = Awaited<ReturnType<Ratelimit["limit"]>>;

/**
 * The one way to build a sliding-window limiter: per request (it holds the request's Redis client),
 * one minute, the shared block cache, and no library timeout — the Redis client's own deadline
 * applies, and the library's timeout would fake a success that hides a failure.
 */
export function slidingWindow(redis: Redis, prefix: string, limit: number): Ratelimit {
  return new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(limit, `${WINDOW_SECONDS} s`),
    prefix,
    ephemeralCache: limiterCache,
    timeout: 0,
  });
}

import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config/env";

/** Upstash calls time out after 500 ms, with no client retries (docs/DESIGN.md#failure-policy). */
export const UPSTASH_TIMEOUT_MS = 500;

/**
 * A Redis client for ONE request: I/O objects must not cross requests in Workers.
 * - `enableAutoPipelining`: commands issued in the same tick travel as one `/pipeline` request —
 *   the key check's one-request promise rests on it, so it is set here, not left to a default.
 * - `retry: { retries: 0 }` is one attempt (`retry: false` would still make two).
 * - The timeout needs the function form of `signal`, so that it throws instead of faking a result.
 */
export function createRedis(config: Pick<Config, "redis">): Redis {
  return new Redis({
    url: config.redis.url,
    token: config.redis.token,
    enableAutoPipelining: true,
    enableTelemetry: false,
    retry: { retries: 0 },
    signal: () => AbortSignal.timeout(UPSTASH_TIMEOUT_MS),
  });
}

/** Whether an error says Upstash could not answer (down, refusing, timed out) — a 503, not a bug. */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof Error && (error.name === "UpstashError" || error.name === "TimeoutError");
}

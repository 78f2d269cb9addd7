import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config/env";

/** DESIGN §4 failure policy: Upstash calls time out after 500 ms, with no client retries. */
export const UPSTASH_TIMEOUT_MS = 500;

/**
 * A Redis client for ONE request: I/O objects must not cross requests in Workers.
 * `retry: { retries: 0 }` is one attempt (`retry: false` would still make two); the timeout
 * needs the function form of `signal` so that it throws instead of faking a result.
 */
export function createRedis(config: Config): Redis {
  return new Redis({
    url: config.redis.url,
    token: config.redis.token,
    enableTelemetry: false,
    retry: { retries: 0 },
    signal: () => AbortSignal.timeout(UPSTASH_TIMEOUT_MS),
  });
}

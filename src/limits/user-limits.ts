import { Ratelimit } from "@upstash/ratelimit";
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { createRedis } from "../redis/client";

/** Per-user limits on dashboard writes (DESIGN §7), per minute. */
export const USER_LIMITS = {
  "key-writes": 60,
  /** A save asks the provider: it must not become a key-testing oracle. */
  "provider-key-saves": 10,
} as const;
export type UserLimit = keyof typeof USER_LIMITS;

/** Shared across requests on purpose: plain data, no I/O objects (DESIGN §4). */
const ephemeralCache = new Map<string, number>();

/** Counts one write for the signed-in user; 429 with Retry-After once the minute's budget is spent. */
export async function takeUserLimit(c: Context<AppEnv>, limit: UserLimit): Promise<void> {
  const limiter = new Ratelimit({
    redis: createRedis(c.get("config")),
    limiter: Ratelimit.slidingWindow(USER_LIMITS[limit], "60 s"),
    prefix: `vk:rl:user:${limit}`,
    ephemeralCache,
  });
  let verdict: Awaited<ReturnType<Ratelimit["limit"]>>;
  try {
    verdict = await limiter.limit(c.get("session").userId);
  } catch (error) {
    // Fail open: a Redis outage must not block the dashboard (DESIGN §4 failure policy).
    c.get("logger").log("warn", "user_limit_unavailable", { limit, error });
    return;
  }
  c.executionCtx.waitUntil(verdict.pending);
  if (!verdict.success) {
    const retryAfter = Math.max(1, Math.ceil((verdict.reset - Date.now()) / 1000));
    throw new ApiError("rate_limited", `Too many ${limit.replace("-", " ")}; try again in ${retryAfter} s.`, {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
}

import type { Redis } from "@upstash/redis/cloudflare";
import { LIMITER_PREFIX } from "../keys/keyspace";
import type { Logger } from "../observability/logger";
import { type LimitAnswer, slidingWindow } from "./sliding-window";

/** Per-user limits on dashboard writes, per minute (docs/DESIGN.md#sessions-and-browser-access). */
export const USER_LIMITS = {
  "key-writes": 60,
  /** A save asks the provider: it must not become a key-testing oracle. */
  "provider-key-saves": 10,
} as const;
export type UserLimit = keyof typeof USER_LIMITS;

export type UserLimitVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface UserLimitInput {
  redis: Redis;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** Counts one write for the user. Fails open: a Redis outage must not block the dashboard. */
export async function takeUserLimit(
  limit: UserLimit,
  userId: string,
  { redis, logger, waitUntil }: UserLimitInput,
): Promise<UserLimitVerdict> {
  let answer: LimitAnswer;
  try {
    answer = await slidingWindow(redis, LIMITER_PREFIX.userWrites(limit), USER_LIMITS[limit]).limit(userId);
  } catch (error) {
    logger.log("warn", "user_limit_unavailable", { limit, error });
    return { ok: true };
  }
  waitUntil(answer.pending);
  if (answer.success) return { ok: true };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((answer.reset - Date.now()) / 1000)) };
}

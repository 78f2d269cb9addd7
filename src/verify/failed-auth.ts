/**
 * Failed authentication, limited per client (docs/DESIGN.md#failed-authentication): every missing,
 * malformed or unknown key counts against the client's bucket; once over the limit the client gets
 * 429 — and, while this isolate knows it is over, without any Neon query for keys it does not have.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { LIMITER_PREFIX } from "../keys/keyspace";
import { slidingWindow } from "../limits/sliding-window";
import type { Logger } from "../observability/logger";
import { clientBucket } from "./client-bucket";
import { type AuthFailure, authFailure, denied, type Verdict } from "./decision";
import { blockedClients, upstashBreaker } from "./isolate-state";
import { answeredRate, type RateState, unaskedRate } from "./rate-headers";

/** Failed authentications allowed per client bucket per minute. */
export const FAILED_AUTH_LIMIT = 30;

const TOO_MANY = "Too many failed authentications.";

export interface FailedAuthInput {
  /** CF-Connecting-IP; `null` skips the limit (RPC callers are trusted Workers). */
  clientIp: string | null;
  nowMs: number;
  redis: () => Redis;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** The 429 for a client this isolate already saw over its limit, or undefined. */
export function blockedClient(clientIp: string | null, nowMs: number): Verdict | undefined {
  if (clientIp === null) return undefined;
  const until = blockedClients.get(clientBucket(clientIp), nowMs);
  if (until === undefined) return undefined;
  const rate: RateState = {
    ...unaskedRate("ip", FAILED_AUTH_LIMIT, nowMs),
    remaining: 0,
    resetMs: until,
  };
  return denied("rate_limited", TOO_MANY, [rate]);
}

/** Counts one failed authentication against the client's bucket: 401, or 429 once over the limit. */
export async function countFailedAuth(code: AuthFailure, input: FailedAuthInput): Promise<Verdict> {
  const { clientIp, nowMs } = input;
  if (clientIp === null) return authFailure(code, [unaskedRate("key", 0, nowMs)]);
  const blocked = blockedClient(clientIp, nowMs);
  if (blocked) return blocked;
  if (upstashBreaker.isOpen(nowMs)) return authFailure(code, [unaskedRate("ip", FAILED_AUTH_LIMIT, nowMs)]);

  const bucket = clientBucket(clientIp);
  try {
    const result = await slidingWindow(input.redis(), LIMITER_PREFIX.failedAuth, FAILED_AUTH_LIMIT).limit(
      bucket,
    );
    input.waitUntil(result.pending);
    const rate = answeredRate("ip", FAILED_AUTH_LIMIT, result, nowMs);
    // With nothing remaining, this client's next failure is refused here, before any Neon query.
    if (!result.success || result.remaining <= 0)
      blockedClients.set(bucket, rate.resetMs, rate.resetMs, nowMs);
    return result.success ? authFailure(code, [rate]) : denied("rate_limited", TOO_MANY, [rate]);
  } catch (error) {
    upstashBreaker.trip(nowMs);
    input.logger.log("warn", "upstash_unavailable", { error });
    return authFailure(code, [unaskedRate("ip", FAILED_AUTH_LIMIT, nowMs)]);
  }
}

/**
 * The per-client limit on public leak reports (docs/DESIGN.md#public-leak-reports): the same
 * client buckets and window as failed authentication, under its own prefix. Nothing is fail-open
 * here: a report cannot be acted on without Redis anyway (the marker protocol needs it), so an
 * unavailable limiter is the caller's 503.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { LIMITER_PREFIX } from "../keys/keyspace";
import type { Logger } from "../observability/logger";
import { clientBucket } from "../verify/client-bucket";
import { answeredRate, type RateState } from "../verify/rate-headers";
import { slidingWindow } from "./sliding-window";

/** Reports allowed per client bucket (IPv4 address or IPv6 /64) per minute. */
export const LEAK_REPORT_LIMIT = 30;

export type LeakReportAdmission = { ok: boolean; rate: RateState } | "unavailable";

export async function admitLeakReport(
  clientIp: string | undefined,
  { redis, logger, waitUntil }: { redis: Redis; logger: Logger; waitUntil: (p: Promise<unknown>) => void },
  nowMs = Date.now(),
): Promise<LeakReportAdmission> {
  try {
    const answer = await slidingWindow(redis, LIMITER_PREFIX.leakReport, LEAK_REPORT_LIMIT).limit(
      clientBucket(clientIp),
    );
    waitUntil(answer.pending);
    return { ok: answer.success, rate: answeredRate("ip", LEAK_REPORT_LIMIT, answer, nowMs) };
  } catch (error) {
    logger.log("warn", "leak_report_limit_unavailable", { error });
    return "unavailable";
  }
}

/**
 * Usage as the dashboard reads it: Postgres for the hours the roll-up has finished, Redis for the
 * rest (the current hour, and any the roll-up has not reached). Each hour comes from one place.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Database } from "../db/client";
import type { Logger } from "../observability/logger";
import { usageDoneKey } from "./keyspace";
import {
  HOUR_MS,
  hourStartMs,
  liveUsage,
  USAGE_TTL_SECONDS,
  type UsageCounts,
  usageHour,
  zeroCounts,
} from "./usage";
import { readUsage } from "./usage-store";

export interface UsageSeries {
  /** keyId → hour start (unix ms) → counts; hours without requests are absent. */
  byKey: Map<string, Map<number, UsageCounts>>;
  /** False when Redis could not be read: the recent hours are missing. */
  complete: boolean;
}

/** Usage of these keys in the hours [fromMs, toMs) (both on hour boundaries). */
export async function usageOverHours(
  db: Database,
  redis: Redis,
  keyIds: readonly string[],
  fromMs: number,
  toMs: number,
  logger: Logger,
  nowMs = Date.now(),
): Promise<UsageSeries> {
  const byKey = new Map<string, Map<number, UsageCounts>>(keyIds.map((id) => [id, new Map()]));
  if (keyIds.length === 0) return { byKey, complete: true };
  const oldestInRedis = nowMs - USAGE_TTL_SECONDS * 1000;
  const recent: string[] = [];
  for (let ms = Math.max(fromMs, Math.floor(oldestInRedis / HOUR_MS) * HOUR_MS); ms < toMs; ms += HOUR_MS) {
    recent.push(usageHour(ms));
  }
  const [stored, live] = await Promise.all([
    readUsage(db, keyIds, fromMs, toMs),
    liveHours(redis, keyIds, recent, logger),
  ]);
  const fromRedis = new Set(live ? live.hours.map(hourStartMs) : []);
  for (const row of stored) {
    if (fromRedis.has(row.hourMs)) continue;
    byKey.get(row.keyId)?.set(row.hourMs, { ok: row.ok, denied: row.denied, limited: row.limited });
  }
  for (const [keyId, hours] of live?.counts ?? []) {
    for (const [hour, counts] of hours) byKey.get(keyId)?.set(hourStartMs(hour), counts);
  }
  return { byKey, complete: live !== undefined };
}

/** The hours not yet rolled up, and their counts in Redis; undefined when Redis cannot be read. */
async function liveHours(redis: Redis, keyIds: readonly string[], hours: readonly string[], logger: Logger) {
  if (hours.length === 0) return { hours: [], counts: new Map<string, Map<string, UsageCounts>>() };
  try {
    const done = await redis.mget<(string | null)[]>(...hours.map(usageDoneKey));
    const pending = hours.filter((_, i) => done[i] === null);
    return { hours: pending, counts: await liveUsage(redis, keyIds, pending) };
  } catch (error) {
    logger.log("warn", "usage_unavailable", { error });
    return undefined;
  }
}

/** Total requests of each key over its series. */
export function totals(series: UsageSeries): Map<string, UsageCounts> {
  const result = new Map<string, UsageCounts>();
  for (const [keyId, hours] of series.byKey) {
    const sum = zeroCounts();
    for (const counts of hours.values()) {
      sum.ok += counts.ok;
      sum.denied += counts.denied;
      sum.limited += counts.limited;
    }
    result.set(keyId, sum);
  }
  return result;
}

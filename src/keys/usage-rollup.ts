/**
 * The Cron Trigger's usage roll-up (docs/DESIGN.md#usage): copies finished hours from Redis into
 * `key_usage` in bounded batches. Redis holds each hour's whole counts, so a batch written twice
 * writes the same numbers; an hour is marked done once copied and never read again.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Database } from "../db/client";
import type { Logger } from "../observability/logger";
import { usageCursorKey, usageDoneKey, usageHourKey, usageKey } from "./keyspace";
import { countsOf, HOUR_MS, hourStartMs, USAGE_TTL_SECONDS, usageHour } from "./usage";
import { pruneUsage, type UsageRow, writeUsage } from "./usage-store";

/** An hour is rolled up once it has been over this long: late recounts land first. */
export const ROLLUP_DELAY_MS = 5 * 60_000;
/** At most this many keys' hours are copied per run. */
export const ROLLUP_BATCH = 1000;
const SCAN_COUNT = 200;

export interface RollupProgress {
  /** Key-hours copied into Postgres. */
  copied: number;
  /** Hours finished (marked done) by this run. */
  hoursDone: number;
  /** Rows past the retention deleted. */
  pruned: number;
}

/** The finished hours still in Redis, oldest first, that are not marked done. */
async function pendingHours(redis: Redis, nowMs: number): Promise<string[]> {
  const lastFinished = Math.floor((nowMs - ROLLUP_DELAY_MS) / HOUR_MS) * HOUR_MS - HOUR_MS;
  const kept = Math.floor(USAGE_TTL_SECONDS / 3600);
  const hours = Array.from({ length: kept }, (_, i) => usageHour(lastFinished - (kept - 1 - i) * HOUR_MS));
  const done = await redis.mget<(string | null)[]>(...hours.map(usageDoneKey));
  return hours.filter((_, i) => done[i] === null);
}

/** Copies up to `budget` keys of one hour; true when the hour is complete. */
async function copyHour(
  db: Database,
  redis: Redis,
  hour: string,
  budget: number,
): Promise<{ copied: number; done: boolean }> {
  let cursor = (await redis.get<string | number>(usageCursorKey(hour))) ?? 0;
  let copied = 0;
  do {
    const [next, ids] = await redis.sscan(usageHourKey(hour), cursor, { count: SCAN_COUNT });
    const keyIds = ids.map(String);
    const hashes = await Promise.all(keyIds.map((id) => redis.hgetall(usageKey(id, hour))));
    const hourMs = hourStartMs(hour);
    const rows: UsageRow[] = keyIds.map((keyId, i) => ({ keyId, hourMs, ...countsOf(hashes[i]) }));
    await writeUsage(db, rows);
    copied += rows.length;
    cursor = next;
  } while (String(cursor) !== "0" && copied < budget);
  const done = String(cursor) === "0";
  await Promise.all(
    done
      ? [redis.set(usageDoneKey(hour), 1, { ex: USAGE_TTL_SECONDS }), redis.del(usageCursorKey(hour))]
      : [redis.set(usageCursorKey(hour), String(cursor), { ex: USAGE_TTL_SECONDS })],
  );
  return { copied, done };
}

export async function rollUpUsage(
  db: Database,
  redis: Redis,
  logger: Logger,
  nowMs = Date.now(),
): Promise<RollupProgress> {
  const progress: RollupProgress = { copied: 0, hoursDone: 0, pruned: 0 };
  for (const hour of await pendingHours(redis, nowMs)) {
    if (progress.copied >= ROLLUP_BATCH) break;
    const { copied, done } = await copyHour(db, redis, hour, ROLLUP_BATCH - progress.copied);
    progress.copied += copied;
    if (done) progress.hoursDone += 1;
  }
  progress.pruned = await pruneUsage(db);
  logger.log("info", "usage_rollup", { ...progress });
  return progress;
}

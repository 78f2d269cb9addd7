/**
 * Usage per key per hour (docs/DESIGN.md#usage): Redis holds each hour's counts — the whole count,
 * never a delta — for 48 h; the Cron Trigger copies finished hours into Postgres. Pure helpers and
 * the Redis side; the counting on /v1 rides in the key check's one request (check-script.ts).
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { usageKey } from "./keyspace";

export const USAGE_OUTCOMES = ["ok", "denied", "limited"] as const;
/** `denied` = a 401/403 of a known key; `limited` = a 429. */
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];
export type UsageCounts = Record<UsageOutcome, number>;

/** Redis keeps an hour's counts this long: the roll-up has a day and more to copy them. */
export const USAGE_TTL_SECONDS = 48 * 3600;
export const HOUR_MS = 3_600_000;

let spelled = { startMs: Number.NaN, hour: "" };

/** The hour of a moment as the keyspace spells it: `yyyymmddhh`, UTC. Spelled once per hour (hot path). */
export function usageHour(ms: number): string {
  const startMs = ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);
  if (startMs !== spelled.startMs) {
    spelled = { startMs, hour: new Date(startMs).toISOString().slice(0, 13).replace(/[-T]/g, "") };
  }
  return spelled.hour;
}

/** The start (unix ms) of an hour spelled `yyyymmddhh`. */
export function hourStartMs(hour: string): number {
  const [y, m, d, h] = [hour.slice(0, 4), hour.slice(4, 6), hour.slice(6, 8), hour.slice(8, 10)];
  return Date.UTC(Number(y), Number(m) - 1, Number(d), Number(h));
}

export const zeroCounts = (): UsageCounts => ({ ok: 0, denied: 0, limited: 0 });

/** A Redis hash (as the client returns it) as counts; unknown fields are ignored. */
export function countsOf(hash: Record<string, unknown> | null | undefined): UsageCounts {
  const counts = zeroCounts();
  for (const outcome of USAGE_OUTCOMES) {
    const value = Number(hash?.[outcome] ?? 0);
    counts[outcome] = Number.isFinite(value) && value > 0 ? Math.trunc(value) : 0;
  }
  return counts;
}

/** The counts Redis holds for these keys in these hours: ONE request. */
export async function liveUsage(
  redis: Redis,
  keyIds: readonly string[],
  hours: readonly string[],
): Promise<Map<string, Map<string, UsageCounts>>> {
  const pairs = keyIds.flatMap((id) => hours.map((hour) => ({ id, hour })));
  const hashes = await Promise.all(pairs.map(({ id, hour }) => redis.hgetall(usageKey(id, hour))));
  const byKey = new Map<string, Map<string, UsageCounts>>();
  pairs.forEach(({ id, hour }, i) => {
    const hash = hashes[i];
    if (!hash) return;
    const hoursOfKey = byKey.get(id) ?? new Map<string, UsageCounts>();
    hoursOfKey.set(hour, countsOf(hash));
    byKey.set(id, hoursOfKey);
  });
  return byKey;
}

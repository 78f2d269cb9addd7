/** Usage rows in Postgres (`key_usage`): the roll-up's writes, the dashboard's reads, the 90-day cut. */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { UsageCounts } from "./usage";

/** Rows older than this are deleted by the Cron Trigger. */
export const USAGE_RETENTION_DAYS = 90;
/** At most this many old rows are deleted per run. */
const PRUNE_BATCH = 5000;

export interface UsageRow extends UsageCounts {
  keyId: string;
  /** Start of the hour, unix ms. */
  hourMs: number;
}

/**
 * Writes each row's whole count for its hour (not an increment): writing the same hour twice
 * changes nothing. Rows of keys this database does not have are skipped.
 */
export async function writeUsage(db: Database, rows: readonly UsageRow[]): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(
    rows.map((r) => ({
      k: r.keyId,
      h: new Date(r.hourMs).toISOString(),
      o: r.ok,
      d: r.denied,
      l: r.limited,
    })),
  );
  await db.execute(sql`insert into key_usage (key_id, hour, ok, denied, limited)
    select u.k, u.h, u.o, u.d, u.l
    from jsonb_to_recordset(${payload}::jsonb) as u(k uuid, h timestamptz, o int, d int, l int)
    join api_keys on api_keys.id = u.k
    on conflict (key_id, hour) do update
      set ok = excluded.ok, denied = excluded.denied, limited = excluded.limited`);
}

/** The stored rows of these keys in [fromMs, toMs). */
export async function readUsage(
  db: Database,
  keyIds: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<UsageRow[]> {
  if (keyIds.length === 0) return [];
  const result = await db.execute<{
    key_id: string;
    hour: string;
    ok: number;
    denied: number;
    limited: number;
  }>(
    sql`select key_id, hour, ok, denied, limited from key_usage
      where key_id = any(${`{${keyIds.join(",")}}`}::uuid[])
        and hour >= ${new Date(fromMs).toISOString()}::timestamptz and hour < ${new Date(toMs).toISOString()}::timestamptz`,
  );
  return result.rows.map((r) => ({
    keyId: r.key_id,
    hourMs: new Date(r.hour).getTime(),
    ok: Number(r.ok),
    denied: Number(r.denied),
    limited: Number(r.limited),
  }));
}

/** Deletes a bounded batch of rows past the retention; returns how many went. */
export async function pruneUsage(db: Database): Promise<number> {
  const result = await db.execute(sql`delete from key_usage where ctid in (
    select ctid from key_usage where hour < now() - make_interval(days => ${USAGE_RETENTION_DAYS})
    limit ${PRUNE_BATCH})`);
  return result.rowCount ?? 0;
}

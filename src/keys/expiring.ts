/**
 * `key.expiring` (docs/DESIGN.md#owner-events): each Cron Trigger run finds active keys that
 * expire within 7 days and have not been announced for that expiry, writes their audit rows and
 * reads them back in ONE statement (under an advisory lock, so overlapping runs cannot both
 * announce a key), then hands the events to `EVENTS_QUEUE`. The audit row is what makes it
 * exactly once: a key is announced again only when its expiry changes.
 */
import { sql } from "drizzle-orm";
import { systemActor } from "../audit/events";
import type { Database } from "../db/client";
import { keyExpiringEvent } from "../events/owner-events";
import { publishEvents } from "../events/publish";
import type { Logger } from "../observability/logger";

export const EXPIRY_NOTICE_DAYS = 7;
/** Keys announced per run at most; the rest wait for the next run (every 10 minutes). */
export const EXPIRY_NOTICES_PER_RUN = 500;
const CRON_ACTOR = systemActor("cron");

interface DueRow extends Record<string, unknown> {
  id: string;
  owner_id: string;
  start: string;
  expires_at: string;
}

export async function announceExpiringKeys(
  db: Database,
  queue: Queue | undefined,
  logger: Logger,
): Promise<{ announced: number }> {
  const [, due] = await db.batch([
    db.execute(sql`select pg_advisory_xact_lock(hashtextextended('key.expiring', 0))`),
    db.execute<DueRow>(sql`with due as (
        select k.id, k.owner_id, k.start, k.expires_at from api_keys k
        where k.revoked_at is null and k.expires_at > now()
          and k.expires_at <= now() + make_interval(days => ${EXPIRY_NOTICE_DAYS})
          and not exists (
            select 1 from audit_events a
            where a.action = 'key.expiring' and a.target_id = k.id::text
              and (a.metadata->>'expiresAt')::timestamptz = k.expires_at)
        order by k.expires_at
        limit ${EXPIRY_NOTICES_PER_RUN}),
      a as (insert into audit_events (owner_id, actor, action, target_id, metadata)
        select owner_id, ${CRON_ACTOR.id}, 'key.expiring', id::text, jsonb_build_object('expiresAt', expires_at)
        from due)
      select id, owner_id, start, expires_at from due`),
  ]);
  const now = new Date();
  const events = due.rows.map((row) =>
    keyExpiringEvent(
      { id: row.id, ownerId: row.owner_id, start: row.start, expiresAt: new Date(row.expires_at) },
      now,
    ),
  );
  await publishEvents(queue, events, logger);
  if (events.length > 0) logger.log("info", "keys_expiring", { announced: events.length });
  return { announced: events.length };
}

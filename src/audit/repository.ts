import { and, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type AuditEventRow, auditEvents } from "../db/schema";

/** The owner's audit events, newest first; `after` is the id of the last event of the previous page. */
export function listAuditEvents(
  db: Database,
  ownerId: string,
  limit: number,
  after?: string,
): Promise<AuditEventRow[]> {
  const olderThanCursor = after
    ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) < (select created_at, id from audit_events where id = ${after}::uuid and owner_id = ${ownerId})`
    : undefined;
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.ownerId, ownerId), olderThanCursor))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(limit);
}

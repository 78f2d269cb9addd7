import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { type AuditEventRow, auditEvents } from "../db/schema";
import { afterCursor } from "../db/sql";

/** The owner's audit events, newest first; `after` is the id of the last event of the previous page. */
export function listAuditEvents(
  db: Database,
  ownerId: string,
  limit: number,
  after?: string,
): Promise<AuditEventRow[]> {
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.ownerId, ownerId), afterCursor(auditEvents, ownerId, after)))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(limit);
}

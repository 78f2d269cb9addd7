import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { type AuditEventRow, auditEvents } from "../db/schema";
import { afterCursor } from "../db/sql";
import type { Actor, AuditAction } from "./events";

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

/** One audit event on its own, for an event that changes nothing else (a refused deployment). */
export async function insertAuditEvent(
  db: Database,
  event: {
    ownerId: string;
    action: AuditAction;
    actor: Actor;
    targetId: string;
    metadata: Record<string, unknown>;
  },
): Promise<void> {
  await db.insert(auditEvents).values({
    ownerId: event.ownerId,
    actor: event.actor.id,
    action: event.action,
    targetId: event.targetId,
    ip: event.actor.ip,
    userAgent: event.actor.userAgent,
    metadata: event.metadata,
  });
}

import { type SQL, sql } from "drizzle-orm";

export const AUDIT_ACTIONS = [
  "key.created",
  "key.updated",
  "key.disabled",
  "key.enabled",
  "key.rolled",
  "key.revoked",
  "key.leaked",
  "account.limit_changed",
  "deploy.secrets_acknowledged",
  "deploy.secrets_blocked",
  "key.expiring",
  "provider_key.set",
  "provider_key.replaced",
  "provider_key.removed",
  "provider_key.rejected",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it and from where; taken from the request (or `system:*` for RPC callers). */
export interface Actor {
  id: string;
  ip: string | null;
  userAgent: string | null;
}

/** An actor for callers that are not a person (RPC from another Worker, automatic jobs). */
export function systemActor(what: string): Actor {
  return { id: `system:${what}`, ip: null, userAgent: null };
}

export function actorFromRequest(userId: string, headers: Headers): Actor {
  return {
    id: userId,
    ip: headers.get("CF-Connecting-IP"),
    userAgent: headers.get("User-Agent")?.slice(0, 512) ?? null,
  };
}

/**
 * `INSERT INTO audit_events … SELECT … FROM <source>`: one audit row per row of `source` (a CTE of
 * the rows a write touched), so the event exists exactly when the write happened, in the same statement.
 */
export function auditFrom(
  source: SQL,
  action: AuditAction | SQL,
  actor: Actor,
  targetColumn: SQL,
  ownerColumn: SQL,
  metadata: Record<string, unknown> = {},
): SQL {
  return sql`insert into audit_events (owner_id, actor, action, target_id, ip, user_agent, metadata)
    select ${ownerColumn}, ${actor.id}, ${action}, ${targetColumn}::text, ${actor.ip}, ${actor.userAgent}, ${JSON.stringify(metadata)}::jsonb
    from ${source}`;
}

/**
 * Leaked secrets (reported by secret scanning): one lookup for all hashes of a report, a pure
 * verdict per hash, and the kills — each write and its `key.leaked` audit event ONE statement, all
 * of a report in one `db.batch` (one transaction).
 */
import { sql } from "drizzle-orm";
import { type Actor, auditFrom } from "../audit/events";
import type { Database } from "../db/client";
import { apiKeys } from "../db/schema";
import { textArray } from "../db/sql";
import { type MarkerValue, REVOKED_MARKER } from "./marker";

/** A stored key whose current or previous secret has one of the reported hashes. */
export interface LeakMatch {
  id: string;
  hash: string;
  previousHash: string | null;
  version: number;
  revoked: boolean;
  /** Judged by the database clock, like the write that would end it. */
  previousInGrace: boolean;
}

export type LeakVerdict =
  | { kind: "unknown" }
  /** The key's current secret, key not revoked: revoke the key. */
  | { kind: "revoke"; key: LeakMatch }
  /** The secret replaced by the last roll, still in its grace period: end the grace period. */
  | { kind: "expire_previous"; key: LeakMatch }
  /** Ours, but unusable already (key revoked, or a previous secret past its grace period). */
  | { kind: "already_dead"; key: LeakMatch };

/** What a leak of the secret with this hash calls for, pure. */
export function leakVerdict(hash: string, matches: readonly LeakMatch[]): LeakVerdict {
  const current = matches.find((m) => m.hash === hash);
  if (current)
    return current.revoked ? { kind: "already_dead", key: current } : { kind: "revoke", key: current };
  const previous = matches.find((m) => m.previousHash === hash);
  if (!previous) return { kind: "unknown" };
  return !previous.revoked && previous.previousInGrace
    ? { kind: "expire_previous", key: previous }
    : { kind: "already_dead", key: previous };
}

/** The marker an already-dead key should carry; re-writing it heals a marker write that failed earlier. */
export function deadKeyMarker(key: LeakMatch): MarkerValue {
  return key.revoked ? REVOKED_MARKER : key.version;
}

/** Every key one of `hashes` belongs to (as current or previous secret): ONE query. */
export async function findLeakMatches(db: Database, hashes: readonly string[]): Promise<LeakMatch[]> {
  if (hashes.length === 0) return [];
  const any = textArray(hashes);
  return db
    .select({
      id: apiKeys.id,
      hash: apiKeys.hash,
      previousHash: apiKeys.previousHash,
      version: apiKeys.version,
      revoked: sql<boolean>`${apiKeys.revokedAt} is not null`,
      previousInGrace: sql<boolean>`coalesce(${apiKeys.previousExpiresAt} > now(), false)`,
    })
    .from(apiKeys)
    .where(sql`${apiKeys.hash} = any(${any}) or ${apiKeys.previousHash} = any(${any})`);
}

export interface LeakKill {
  kind: "revoke" | "expire_previous";
  keyId: string;
  /** Hash of the leaked secret. */
  hash: string;
  /** Where it leaked, for the audit trail (never the secret). */
  metadata: Record<string, unknown>;
}

interface KilledRow extends Record<string, unknown> {
  id: string;
  version: number;
  revoked: boolean;
}

/**
 * Revokes keys and ends grace periods in one transaction, each with its audit event. A row changed
 * meanwhile is skipped by its guard (already revoked; rolled again). Returns the markers to write.
 */
export async function killLeakedSecrets(
  db: Database,
  kills: readonly LeakKill[],
  actor: Actor,
): Promise<Map<string, MarkerValue>> {
  const [first, ...rest] = kills.map((kill) => db.execute<KilledRow>(killStatement(kill, actor)));
  if (!first) return new Map();
  const results = await db.batch([first, ...rest]);
  const rows = results.flatMap((result) => result.rows);
  return new Map(rows.map((row) => [row.id, row.revoked ? REVOKED_MARKER : row.version]));
}

function killStatement(kill: LeakKill, actor: Actor) {
  const metadata = { ...kill.metadata, secret: kill.kind === "revoke" ? "current" : "previous" };
  // The previous secret's grace ends a minute in the past, so no clock skew between this database and
  // a Worker can leave it usable; the hash stays, so a repeated report still finds the key.
  const change =
    kill.kind === "revoke"
      ? sql`update api_keys set revoked_at = now(), version = version + 1, updated_at = now()
          where id = ${kill.keyId}::uuid and revoked_at is null`
      : sql`update api_keys set previous_expires_at = now() - interval '1 minute', version = version + 1, updated_at = now()
          where id = ${kill.keyId}::uuid and previous_hash = ${kill.hash} and previous_expires_at > now() and revoked_at is null`;
  return sql`with u as (${change} returning id, owner_id, version, revoked_at is not null as revoked),
    a as (${auditFrom(sql`u`, "key.leaked", actor, sql`u.id`, sql`u.owner_id`, metadata)})
    select id, version, revoked from u`;
}

/**
 * Public API key storage: every SQL statement about keys lives here — the dashboard's reads and
 * writes, the key check's lookup by hash and last-used write, and the leak lookups and kills.
 * Every write and its audit event are ONE statement (a CTE feeding the audit insert), run in a
 * `db.batch` (one transaction) with a typed read of the result.
 */
import { and, desc, eq, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import { type Actor, type AuditAction, auditFrom } from "../audit/events";
import type { Database } from "../db/client";
import { sqlState } from "../db/errors";
import { type ApiKeyRow, accounts, apiKeys } from "../db/schema";
import { afterCursor, textArray, timestamptz, uuidArray } from "../db/sql";
import type { Permission } from "../domain/permissions";
import type { LeakKill, LeakMatch } from "./leaks";
import type { KeyState } from "./marker";

/** At most this many active (not revoked) keys per owner. */
export const MAX_ACTIVE_KEYS = 100;

export interface NewKey {
  ownerId: string;
  name: string;
  permissions: Permission[];
  rateLimit: number;
  expiresAt: Date | null;
  /** null = every project of the owner. */
  projects: string[] | null;
  hash: string;
  start: string;
}

/** A change to a key; an absent field stays as it is, `null` clears `expiresAt` or the scope. */
export interface KeyChanges {
  name?: string | undefined;
  permissions?: Permission[] | undefined;
  rateLimit?: number | undefined;
  projects?: string[] | null | undefined;
  expiresAt?: Date | null | undefined;
  enabled?: boolean | undefined;
}

const ownedKey = (ownerId: string, id: string) => and(eq(apiKeys.id, id), eq(apiKeys.ownerId, ownerId));

/**
 * A new secret's hash collided with a stored one (unique violation): with ≈190 bits of randomness
 * this does not happen, but if it did the caller should retry rather than see a 500.
 */
export type Conflict = "conflict";

async function orConflict<T>(write: Promise<T>): Promise<T | Conflict> {
  try {
    return await write;
  } catch (error) {
    if (sqlState(error) === "23505") return "conflict";
    throw error;
  }
}

/**
 * Inserts the key unless the owner already has MAX_ACTIVE_KEYS. The per-owner advisory lock makes
 * the count-and-insert atomic under concurrent creates (neon-http has no interactive transactions).
 */
export async function insertKey(
  db: Database,
  key: NewKey,
  actor: Actor,
): Promise<ApiKeyRow | "limit_reached" | Conflict> {
  const id = crypto.randomUUID();
  const written = await orConflict(
    db.batch([
      db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`api_keys:${key.ownerId}`}, 0))`),
      db.execute(sql`with k as (
        insert into api_keys (id, owner_id, name, start, hash, permissions, rate_limit, expires_at, projects)
        select ${id}::uuid, ${key.ownerId}, ${key.name}, ${key.start}, ${key.hash}, ${textArray(key.permissions)},
               ${key.rateLimit}, ${timestamptz(key.expiresAt)}, ${uuidArray(key.projects)}
        where (select count(*) from api_keys where owner_id = ${key.ownerId} and revoked_at is null) < ${MAX_ACTIVE_KEYS}
        returning id, owner_id)
      ${auditFrom(sql`k`, "key.created", actor, sql`k.id`, sql`k.owner_id`, { name: key.name, permissions: key.permissions, rateLimit: key.rateLimit, projects: key.projects, expiresAt: key.expiresAt })}`),
      db.select().from(apiKeys).where(eq(apiKeys.id, id)),
    ]),
  );
  if (written === "conflict") return written;
  const [, , [row]] = written;
  return row ?? "limit_reached";
}

/**
 * One change to an active key: `set` plus a version bump, audited in the same statement, and the
 * key's row read back in the same transaction. `changed` is false when there was no such active key.
 */
async function changeActiveKey(
  db: Database,
  ownerId: string,
  id: string,
  set: SQL,
  audit: { action: AuditAction; actor: Actor; metadata?: Record<string, unknown> },
  onlyIf: SQL = sql`true`,
): Promise<{ changed: boolean; row: ApiKeyRow | undefined }> {
  const [written, [row]] = await db.batch([
    db.execute(sql`with u as (
        update api_keys set ${set}, version = version + 1, updated_at = now()
        where id = ${id}::uuid and owner_id = ${ownerId} and revoked_at is null and ${onlyIf}
        returning id, owner_id)
      ${auditFrom(sql`u`, audit.action, audit.actor, sql`u.id`, sql`u.owner_id`, audit.metadata)}`),
    db.select().from(apiKeys).where(ownedKey(ownerId, id)),
  ]);
  return { changed: written.rowCount > 0, row };
}

/** Updates an active key, bumping its version. `undefined` when there is no such active key. */
export async function updateKey(
  db: Database,
  ownerId: string,
  id: string,
  changes: KeyChanges,
  actor: Actor,
): Promise<ApiKeyRow | undefined> {
  const keep = (field: keyof KeyChanges) => (changes[field] === undefined ? sql`true` : sql`false`);
  const set = sql`
    name = coalesce(${changes.name ?? null}, name),
    permissions = coalesce(${changes.permissions ? textArray(changes.permissions) : sql`null::text[]`}, permissions),
    rate_limit = coalesce(${changes.rateLimit ?? null}::int, rate_limit),
    enabled = coalesce(${changes.enabled ?? null}::boolean, enabled),
    projects = case when ${keep("projects")} then projects else ${uuidArray(changes.projects ?? null)} end,
    expires_at = case when ${keep("expiresAt")} then expires_at else ${timestamptz(changes.expiresAt)} end`;
  const action =
    changes.enabled === false ? "key.disabled" : changes.enabled === true ? "key.enabled" : "key.updated";
  const { changed, row } = await changeActiveKey(db, ownerId, id, set, {
    action,
    actor,
    metadata: { changes },
  });
  return changed ? row : undefined;
}

/**
 * Gives the key a new secret. With a grace period the replaced secret keeps working until it ends;
 * an older previous secret is dropped at once.
 */
export async function rollKey(
  db: Database,
  ownerId: string,
  id: string,
  secret: { hash: string; start: string },
  graceSeconds: number,
  actor: Actor,
): Promise<ApiKeyRow | undefined | Conflict> {
  const set = sql`
    previous_hash = case when ${graceSeconds}::int > 0 then hash end,
    previous_expires_at = case when ${graceSeconds}::int > 0 then now() + make_interval(secs => ${graceSeconds}::int) end,
    hash = ${secret.hash},
    start = ${secret.start}`;
  const metadata = { gracePeriodSeconds: graceSeconds };
  // An expired key is not rolled: the new secret would be expired already.
  const live = sql`(expires_at is null or expires_at > now())`;
  const written = await orConflict(
    changeActiveKey(db, ownerId, id, set, { action: "key.rolled", actor, metadata }, live),
  );
  if (written === "conflict") return written;
  // An active key left as it was (it expired meanwhile) comes back unchanged: the caller compares hashes.
  return written.row?.revokedAt === null ? written.row : undefined;
}

/**
 * Revokes the key (idempotent). Returns its row — also when it was already revoked, so a repeated
 * DELETE re-writes the marker — or `undefined` when the owner has no such key.
 */
export async function revokeKey(
  db: Database,
  ownerId: string,
  id: string,
  actor: Actor,
): Promise<ApiKeyRow | undefined> {
  const { row } = await changeActiveKey(db, ownerId, id, sql`revoked_at = now()`, {
    action: "key.revoked",
    actor,
  });
  return row;
}

/** The ids of the owner's active keys. */
export async function activeKeyIds(db: Database, ownerId: string): Promise<string[]> {
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.ownerId, ownerId), isNull(apiKeys.revokedAt)));
  return rows.map((r) => r.id);
}

/** Revokes every active key of the owner; returns all the owner's revoked keys, earlier ones included. */
export async function revokeAllKeys(
  db: Database,
  ownerId: string,
  actor: Actor,
  reason: string,
): Promise<ApiKeyRow[]> {
  const [, revoked] = await db.batch([
    db.execute(sql`with u as (
        update api_keys set revoked_at = now(), version = version + 1, updated_at = now()
        where owner_id = ${ownerId} and revoked_at is null
        returning id, owner_id)
      ${auditFrom(sql`u`, "key.revoked", actor, sql`u.id`, sql`u.owner_id`, { reason })}`),
    db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.ownerId, ownerId), isNotNull(apiKeys.revokedAt))),
  ]);
  return revoked;
}

/** The owner's key in any state (revoked included), or undefined. */
export async function findOwnedKey(
  db: Database,
  ownerId: string,
  id: string,
): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(ownedKey(ownerId, id));
  return row;
}

export async function findKey(db: Database, ownerId: string, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(ownedKey(ownerId, id), isNull(apiKeys.revokedAt)));
  return row;
}

/** Active keys, newest first; `after` is the id of the last key of the previous page. */
export async function listKeys(
  db: Database,
  ownerId: string,
  limit: number,
  after?: string,
): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.ownerId, ownerId), isNull(apiKeys.revokedAt), afterCursor(apiKeys, ownerId, after)))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit);
}

/** A key as the key check reads it: with its owner's account limit (null = the default). */
export type KeyCheckRow = ApiKeyRow & { accountRateLimit: number | null };

/** The key check's lookup: the key whose current or previous secret has this hash. ONE query. */
export async function findKeyByHash(db: Database, hash: string): Promise<KeyCheckRow | undefined> {
  const [found] = await db
    .select({ key: apiKeys, accountRateLimit: accounts.rateLimit })
    .from(apiKeys)
    .leftJoin(accounts, eq(accounts.ownerId, apiKeys.ownerId))
    .where(or(eq(apiKeys.hash, hash), eq(apiKeys.previousHash, hash)));
  return found && { ...found.key, accountRateLimit: found.accountRateLimit };
}

/**
 * Records that the key was used now (the key check calls it at most once a minute per key) — only
 * while the key is alive: a key revoked, expired or disabled between the verdict and this write
 * keeps the last use it really had.
 */
export async function touchLastUsed(db: Database, keyId: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiKeys.id, keyId),
        isNull(apiKeys.revokedAt),
        eq(apiKeys.enabled, true),
        or(isNull(apiKeys.expiresAt), sql`${apiKeys.expiresAt} > now()`),
      ),
    );
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

interface KilledRow extends Record<string, unknown> {
  id: string;
  owner_id: string;
  start: string;
  version: number;
  revoked: boolean;
  hash: string;
  previous_hash: string | null;
  previous_expires_at: string | null;
}

/** A key a leak report changed: its state for the marker protocol, and who to tell. */
export type KilledKey = KeyState & { ownerId: string; start: string };

/**
 * Revokes keys and ends grace periods in one transaction, each with its audit event. A row changed
 * meanwhile is skipped by its guard (already revoked; rolled again). Returns the killed keys' state.
 */
export async function killLeakedSecrets(
  db: Database,
  kills: readonly LeakKill[],
  actor: Actor,
): Promise<KilledKey[]> {
  const [first, ...rest] = kills.map((kill) => db.execute<KilledRow>(killStatement(kill, actor)));
  if (!first) return [];
  const results = await db.batch([first, ...rest]);
  return results
    .flatMap((result) => result.rows)
    .map((row) => ({
      id: row.id,
      ownerId: row.owner_id,
      start: row.start,
      version: Number(row.version),
      revoked: row.revoked,
      hash: row.hash,
      previousHash: row.previous_hash,
      previousExpiresAt: row.previous_expires_at ? new Date(row.previous_expires_at) : null,
    }));
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
  return sql`with u as (${change} returning id, owner_id, start, version, revoked_at is not null as revoked,
      hash, previous_hash, previous_expires_at),
    a as (${auditFrom(sql`u`, "key.leaked", actor, sql`u.id`, sql`u.owner_id`, metadata)})
    select id, owner_id, start, version, revoked, hash, previous_hash, previous_expires_at from u`;
}

/** A key row as the marker protocol describes it. */
export function keyStateOf(row: ApiKeyRow): KeyState {
  return {
    id: row.id,
    version: row.version,
    revoked: row.revokedAt !== null,
    hash: row.hash,
    previousHash: row.previousHash,
    previousExpiresAt: row.previousExpiresAt,
  };
}

/** Active keys after `afterId` in id order: one batch of the key-hash index rebuild. */
export async function activeKeysAfter(
  db: Database,
  afterId: string | null,
  limit: number,
): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(isNull(apiKeys.revokedAt), afterId ? sql`${apiKeys.id} > ${afterId}::uuid` : undefined))
    .orderBy(apiKeys.id)
    .limit(limit);
}

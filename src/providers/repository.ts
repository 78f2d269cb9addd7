/** Provider-key rows. Every write and its audit event are one statement. */
import { and, eq, not, sql } from "drizzle-orm";
import { type Actor, auditFrom } from "../audit/events";
import type { Database } from "../db/client";
import { type ProviderKeyRow, providerKeys } from "../db/schema";
import type { Provider } from "../domain/providers";

export interface SealedProviderKey {
  ciphertext: string;
  hint: string | null;
  baseUrl: string | null;
}

const owned = (ownerId: string, provider: Provider) =>
  and(eq(providerKeys.ownerId, ownerId), eq(providerKeys.provider, provider));

export function listProviderKeys(db: Database, ownerId: string): Promise<ProviderKeyRow[]> {
  return db.select().from(providerKeys).where(eq(providerKeys.ownerId, ownerId));
}

export async function findProviderKey(
  db: Database,
  ownerId: string,
  provider: Provider,
): Promise<ProviderKeyRow | undefined> {
  const [row] = await db.select().from(providerKeys).where(owned(ownerId, provider));
  return row;
}

/** Stores a validated key (audited as set or replaced); returns the stored row. */
export async function upsertProviderKey(
  db: Database,
  ownerId: string,
  provider: Provider,
  sealed: SealedProviderKey,
  actor: Actor,
): Promise<ProviderKeyRow> {
  const [, [row]] = await db.batch([
    db.execute(sql`with previous as (
        select 1 from provider_keys where owner_id = ${ownerId} and provider = ${provider}),
      saved as (
        insert into provider_keys (owner_id, provider, ciphertext, hint, base_url, status, validated_at,
          last_checked_at, check_attempted_at)
        values (${ownerId}, ${provider}, ${sealed.ciphertext}, ${sealed.hint}, ${sealed.baseUrl}, 'valid', now(),
          now(), now())
        on conflict (owner_id, provider) do update set
          ciphertext = excluded.ciphertext, hint = excluded.hint, base_url = excluded.base_url,
          status = 'valid', validated_at = now(), last_checked_at = now(), check_attempted_at = now(),
          rejected_at = null, updated_at = now()
        returning owner_id, provider)
      ${auditFrom(
        sql`saved`,
        sql`case when exists (select 1 from previous) then 'provider_key.replaced' else 'provider_key.set' end`,
        actor,
        sql`saved.provider`,
        sql`saved.owner_id`,
        { hint: sealed.hint, baseUrl: sealed.baseUrl },
      )}`),
    db.select().from(providerKeys).where(owned(ownerId, provider)),
  ]);
  if (!row) throw new Error("provider key upsert returned no row");
  return row;
}

/** Removes the key (audited); `false` when there was none. */
export async function deleteProviderKey(
  db: Database,
  ownerId: string,
  provider: Provider,
  actor: Actor,
): Promise<boolean> {
  const result = await db.execute(sql`with removed as (
      delete from provider_keys where owner_id = ${ownerId} and provider = ${provider} returning owner_id, provider)
    ${auditFrom(sql`removed`, "provider_key.removed", actor, sql`removed.provider`, sql`removed.owner_id`)}`);
  return result.rowCount > 0;
}

/** A row whose envelope no longer opens: it stays, marked, until the user enters the key again. */
export async function markNeedsReentry(db: Database, row: ProviderKeyRow): Promise<void> {
  await db
    .update(providerKeys)
    .set({ status: "needs_reentry", updatedAt: sql`now()` })
    .where(and(owned(row.ownerId, row.provider as Provider), eq(providerKeys.ciphertext, row.ciphertext)));
}

/** The stored row a check or a use was made with: a write applies only while it is still that row. */
export type StoredKeyRef = Pick<ProviderKeyRow, "ownerId" | "provider" | "ciphertext" | "hint">;

const sameValidRow = (row: StoredKeyRef) =>
  and(
    owned(row.ownerId, row.provider as Provider),
    eq(providerKeys.ciphertext, row.ciphertext),
    eq(providerKeys.status, "valid"),
  );

export interface RejectionRecord {
  /** How the refusal was seen: an answer to a `providerFetch`, or the health re-check. */
  via: "use" | "recheck";
  /** The provider's HTTP status (never its body). */
  status: number;
}

/**
 * Marks a still-valid row `rejected` and audits it, in one statement; the time when this call did
 * it, or null when the row was already marked, replaced or removed — so concurrent refusals of one
 * key record one rejection.
 */
export async function markRejected(
  db: Database,
  row: StoredKeyRef,
  record: RejectionRecord,
  actor: Actor,
): Promise<Date | null> {
  const result = await db.execute<{ rejected_at: string }>(sql`with marked as (
      update provider_keys set status = 'rejected', rejected_at = now(), last_checked_at = now(),
        updated_at = now()
      where owner_id = ${row.ownerId} and provider = ${row.provider} and ciphertext = ${row.ciphertext}
        and status = 'valid'
      returning owner_id, provider, rejected_at),
    audited as (${auditFrom(sql`marked`, "provider_key.rejected", actor, sql`marked.provider`, sql`marked.owner_id`, { hint: row.hint, ...record })})
    select rejected_at from marked`);
  const [marked] = result.rows;
  return marked ? new Date(marked.rejected_at) : null;
}

/** The provider accepted the stored key again (health re-check). */
export async function markChecked(db: Database, row: StoredKeyRef): Promise<void> {
  await db.update(providerKeys).set({ lastCheckedAt: sql`now()` }).where(sameValidRow(row));
}

/**
 * Claims the valid rows whose last re-check attempt is older than `days`, oldest first: their
 * attempt time becomes now, so an overlapping run skips them and a provider that does not answer
 * cannot keep the same rows at the head of the queue.
 */
export function claimRecheckBatch(db: Database, days: number, limit: number): Promise<ProviderKeyRow[]> {
  return db
    .update(providerKeys)
    .set({ checkAttemptedAt: sql`now()` })
    .where(
      sql`(${providerKeys.ownerId}, ${providerKeys.provider}) in (
        select owner_id, provider from provider_keys
        where status = 'valid' and check_attempted_at <= now() - make_interval(days => ${days})
        order by check_attempted_at limit ${limit} for update skip locked)`,
    )
    .returning();
}

const sealedUnder = (version: number) => sql`${providerKeys.ciphertext} like ${`v${version}.%`}`;

/** Rows sealed under an older master key that may still open, oldest first. */
export function staleRows(db: Database, currentVersion: number, limit: number): Promise<ProviderKeyRow[]> {
  return db
    .select()
    .from(providerKeys)
    .where(and(not(sealedUnder(currentVersion)), eq(providerKeys.status, "valid")))
    .orderBy(providerKeys.updatedAt)
    .limit(limit);
}

export async function countStaleRows(db: Database, currentVersion: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(providerKeys)
    .where(and(not(sealedUnder(currentVersion)), eq(providerKeys.status, "valid")));
  return row?.n ?? 0;
}

/** Replaces one envelope with its re-sealed form, unless the row changed meanwhile. */
export async function replaceCiphertext(
  db: Database,
  row: ProviderKeyRow,
  ciphertext: string,
): Promise<void> {
  await db
    .update(providerKeys)
    .set({ ciphertext })
    .where(and(owned(row.ownerId, row.provider as Provider), eq(providerKeys.ciphertext, row.ciphertext)));
}

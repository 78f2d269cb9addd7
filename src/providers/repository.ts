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
        insert into provider_keys (owner_id, provider, ciphertext, hint, base_url, status, validated_at)
        values (${ownerId}, ${provider}, ${sealed.ciphertext}, ${sealed.hint}, ${sealed.baseUrl}, 'valid', now())
        on conflict (owner_id, provider) do update set
          ciphertext = excluded.ciphertext, hint = excluded.hint, base_url = excluded.base_url,
          status = 'valid', validated_at = now(), updated_at = now()
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

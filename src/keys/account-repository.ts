/** Per-owner settings (`accounts`): today the account-wide limit, set by VULK over RPC. */
import { and, eq, isNull, sql } from "drizzle-orm";
import { type Actor, auditFrom } from "../audit/events";
import type { Database } from "../db/client";
import { type ApiKeyRow, apiKeys } from "../db/schema";

/**
 * Sets (or, with null, clears) the owner's account limit and bumps the version of every active key
 * of the owner in the same transaction — their cached rows carry the limit, so the marker protocol
 * makes the new one apply on the next request. Returns the owner's active keys as they now are.
 */
export async function setAccountLimit(
  db: Database,
  ownerId: string,
  limit: number | null,
  actor: Actor,
): Promise<ApiKeyRow[]> {
  const [, , keys] = await db.batch([
    db.execute(sql`with a as (
        insert into accounts (owner_id, rate_limit) values (${ownerId}, ${limit}::int)
        on conflict (owner_id) do update set rate_limit = excluded.rate_limit, updated_at = now()
        returning owner_id)
      ${auditFrom(sql`a`, "account.limit_changed", actor, sql`null`, sql`a.owner_id`, { rateLimit: limit })}`),
    db.execute(sql`update api_keys set version = version + 1, updated_at = now()
      where owner_id = ${ownerId} and revoked_at is null`),
    db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.ownerId, ownerId), isNull(apiKeys.revokedAt))),
  ]);
  return keys;
}

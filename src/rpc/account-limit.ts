import { systemActor } from "../audit/events";
import { ACCOUNT_RATE_LIMIT } from "../domain/permissions";
import { setAccountLimit } from "../keys/account-repository";
import { changeOwnerKeys } from "../keys/owner-change";
import { type RpcContext, type RpcFailure, rpcFailure, textArgument } from "./contract";

export interface AccountLimitResult {
  ok: true;
  /** The limit now in force for the owner's keys together (per minute). */
  rateLimit: number;
  /** Whether it is the owner's own limit or the default. */
  source: "account" | "default";
}

/**
 * RPC `setAccountLimit(ownerId, limit | null)`: the owner's requests per minute across all keys
 * (VULK's plans); null returns the owner to `ACCOUNT_RATE_LIMIT`. In force on the next request
 * (marker protocol for every key of the owner); `service_unavailable` means nothing changed.
 */
export async function setAccountLimitOf(
  ctx: RpcContext,
  ownerId: unknown,
  limit: unknown,
): Promise<AccountLimitResult | RpcFailure> {
  const owner = textArgument(ownerId);
  if (!owner) return rpcFailure("invalid_request", "ownerId must be a non-empty string.");
  const valid =
    limit === null ||
    (Number.isInteger(limit) &&
      (limit as number) >= ACCOUNT_RATE_LIMIT.min &&
      (limit as number) <= ACCOUNT_RATE_LIMIT.max);
  if (!valid) {
    return rpcFailure(
      "invalid_request",
      `limit must be null or an integer from ${ACCOUNT_RATE_LIMIT.min} to ${ACCOUNT_RATE_LIMIT.max}.`,
    );
  }
  const rateLimit = limit as number | null;
  const { db } = ctx.stores;
  const changed = await changeOwnerKeys(ctx.stores, ctx.logger, owner, () =>
    setAccountLimit(db, owner, rateLimit, systemActor("rpc")),
  );
  if (!changed) return rpcFailure("service_unavailable", "Nothing was changed: call again.");
  return rateLimit === null
    ? { ok: true, rateLimit: ctx.config.accountRateLimit, source: "default" }
    : { ok: true, rateLimit, source: "account" };
}

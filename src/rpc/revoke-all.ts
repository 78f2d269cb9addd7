import { systemActor } from "../audit/events";
import { changeOwnerKeys } from "../keys/owner-change";
import { revokeAllKeys } from "../keys/repository";
import { clipText, isStorableText } from "../lib/text";
import { type RpcContext, type RpcFailure, rpcFailure, textArgument } from "./contract";

export interface RevokeAllResult {
  ok: true;
  revokedKeyIds: string[];
}

/**
 * Account deletion or compromise: every active key of the owner is revoked (audited), under the
 * same marker protocol as DELETE. `service_unavailable` means nothing was revoked: call again.
 */
export async function revokeAllKeysOf(
  ctx: RpcContext,
  ownerId: unknown,
  reason: unknown,
): Promise<RevokeAllResult | RpcFailure> {
  const owner = textArgument(ownerId);
  if (!owner) return rpcFailure("invalid_request", "ownerId must be a non-empty string.");
  if (typeof reason === "string" && !isStorableText(reason)) {
    return rpcFailure("invalid_request", "reason must not contain U+0000 or an unpaired surrogate.");
  }
  const why = typeof reason === "string" && reason ? clipText(reason, 200) : "revoke_all";
  const { db } = ctx.stores;
  const revoked = await changeOwnerKeys(ctx.stores, ctx.logger, owner, () =>
    revokeAllKeys(db, owner, systemActor("rpc"), why),
  );
  if (!revoked) return rpcFailure("service_unavailable", "Nothing was revoked: call again.");
  return { ok: true, revokedKeyIds: revoked.map((row) => row.id) };
}

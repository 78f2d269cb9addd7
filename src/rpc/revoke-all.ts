import { systemActor } from "../audit/events";
import { REVOKED_MARKER, writeMarkers } from "../keys/marker";
import { revokeAllKeys } from "../keys/repository";
import { type RpcContext, type RpcFailure, rpcFailure, textArgument } from "./contract";

export interface RevokeAllResult {
  ok: true;
  revokedKeyIds: string[];
}

/**
 * Account deletion or compromise: every active key of the owner is revoked (audited, same marker
 * protocol as DELETE). `service_unavailable` when the markers cannot be written: the keys are
 * revoked, and calling again re-writes the markers.
 */
export async function revokeAllKeysOf(
  ctx: RpcContext,
  ownerId: unknown,
  reason: unknown,
): Promise<RevokeAllResult | RpcFailure> {
  const owner = textArgument(ownerId);
  if (!owner) return rpcFailure("invalid_request", "ownerId must be a non-empty string.");
  const why = typeof reason === "string" && reason ? reason.slice(0, 200) : "revoke_all";
  const ids = await revokeAllKeys(ctx.stores.db, owner, systemActor("rpc"), why);
  const markers = new Map(ids.map((id) => [id, REVOKED_MARKER] as const));
  if ((await writeMarkers(ctx.stores.redis, markers, ctx.logger)) === "failed") {
    return rpcFailure("service_unavailable", "The keys are revoked but not yet propagated; call again.");
  }
  return { ok: true, revokedKeyIds: ids };
}

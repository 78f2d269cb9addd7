/**
 * A stored key the provider no longer accepts (docs/DESIGN.md#provider-keys): the row becomes
 * `rejected` with its audit row in one statement, then `provider_key.rejected` goes to
 * `EVENTS_QUEUE` (docs/DESIGN.md#owner-events). Only the call that changed the row sends the event.
 */
import { type Actor, systemActor } from "../audit/events";
import type { Database } from "../db/client";
import type { Provider } from "../domain/providers";
import { providerKeyRejectedEvent } from "../events/owner-events";
import { publishEvents } from "../events/publish";
import type { Logger } from "../observability/logger";
import { checkProviderKey } from "./check";
import { markRejected, type RejectionRecord, type StoredKeyRef } from "./repository";
import type { Credential } from "./service";

export interface RejectionDeps {
  db: Database;
  queue: Queue | undefined;
  logger: Logger;
}

/** `true` when this call recorded the rejection (the row was still valid and unchanged). */
export async function recordRejection(
  { db, queue, logger }: RejectionDeps,
  row: StoredKeyRef,
  record: RejectionRecord,
  actor: Actor,
): Promise<boolean> {
  const rejectedAt = await markRejected(db, row, record, actor);
  if (!rejectedAt) return false;
  const provider = row.provider as Provider;
  logger.log("warn", "provider_key_rejected", { provider, via: record.via, status: record.status });
  await publishEvents(
    queue,
    [providerKeyRejectedEvent({ ownerId: row.ownerId, provider, hint: row.hint }, record, rejectedAt)],
    logger,
  );
  return true;
}

const RPC_ACTOR = systemActor("rpc");

/**
 * A bad-key status in answer to a `providerFetch`. The save's check confirms it first (one models
 * list, no tokens): a 401 for a scope or a model the key may not use must not mark a key that
 * works. `true` when the key is now recorded as rejected.
 */
export async function rejectionOnUse(
  deps: RejectionDeps,
  credential: Extract<Credential, { kind: "usable" }>,
  status: number,
): Promise<boolean> {
  const confirmed = await checkProviderKey(credential.definition, credential.baseUrl, credential.key);
  if (confirmed.result !== "rejected") {
    deps.logger.log("info", "provider_key_kept", {
      provider: credential.definition.id,
      status,
      check: confirmed.result,
    });
    return false;
  }
  await recordRejection(deps, credential.row, { via: "use", status }, RPC_ACTOR);
  return true;
}

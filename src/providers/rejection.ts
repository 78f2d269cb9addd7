/**
 * A stored key the provider no longer accepts (docs/DESIGN.md#provider-keys): the row becomes
 * `rejected` with its audit row in one statement, then `provider_key.rejected` goes to
 * `EVENTS_QUEUE` (docs/DESIGN.md#owner-events). Only the call that changed the row sends the event.
 */
import type { Actor } from "../audit/events";
import type { Database } from "../db/client";
import type { Provider } from "../domain/providers";
import { providerKeyRejectedEvent } from "../events/owner-events";
import { publishEvents } from "../events/publish";
import type { Logger } from "../observability/logger";
import { markRejected, type RejectionRecord, type StoredKeyRef } from "./repository";

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

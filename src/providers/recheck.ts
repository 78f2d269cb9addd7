/**
 * The health re-check (docs/DESIGN.md#provider-keys): each Cron Trigger run claims a bounded batch
 * of valid keys whose last re-check is older than the interval, oldest first, and asks each
 * provider with the save's no-token check. Accepted → `last_checked_at` moves on; rejected → the
 * key is `rejected` as on use; unreachable → nothing changes (the claim only moves the row to the
 * back of the queue). Sequential: at most `batch` requests per run, one per key.
 */
import { systemActor } from "../audit/events";
import type { Config } from "../config/env";
import type { Database } from "../db/client";
import type { Provider } from "../domain/providers";
import type { Logger } from "../observability/logger";
import { checkProviderKey } from "./check";
import { providerDefinition } from "./registry";
import { recordRejection } from "./rejection";
import { claimRecheckBatch, markChecked } from "./repository";
import { storedCredential } from "./service";

export interface RecheckProgress {
  checked: number;
  accepted: number;
  rejected: number;
  unreachable: number;
  /** Rows that no longer open or whose URL is no longer allowed: left to the card's re-entry. */
  unusable: number;
}

const CRON_ACTOR = systemActor("cron");

export async function recheckProviderKeys(
  db: Database,
  config: Config,
  queue: Queue | undefined,
  logger: Logger,
): Promise<RecheckProgress> {
  const { batchSize, intervalDays } = config.providerKeyRecheck;
  const progress: RecheckProgress = { checked: 0, accepted: 0, rejected: 0, unreachable: 0, unusable: 0 };
  for (const row of await claimRecheckBatch(db, intervalDays, batchSize)) {
    progress.checked++;
    const definition = providerDefinition(row.provider as Provider);
    const credential = await storedCredential(db, config, definition, row);
    if (credential.kind !== "usable") {
      progress.unusable++;
      continue;
    }
    const outcome = await checkProviderKey(definition, credential.baseUrl, credential.key);
    if (outcome.result === "accepted") {
      await markChecked(db, row);
      progress.accepted++;
    } else if (outcome.result === "rejected") {
      const record = { via: "recheck" as const, status: outcome.status };
      if (await recordRejection({ db, queue, logger }, row, record, CRON_ACTOR)) progress.rejected++;
    } else {
      progress.unreachable++;
    }
  }
  logger.log("info", "provider_keys_recheck", { ...progress });
  return progress;
}

/**
 * Master-key rotation (docs/DESIGN.md#envelope-format): each run re-seals a bounded batch of rows sealed under an older
 * master key with the newest one. Run it until `remaining` is 0, then drop the old key from the secret.
 */
import type { Config } from "../config/env";
import { open, seal } from "../crypto/envelope";
import type { Database } from "../db/client";
import type { Logger } from "../observability/logger";
import { countStaleRows, markNeedsReentry, replaceCiphertext, staleRows } from "./repository";

export const REWRAP_BATCH_SIZE = 100;

export interface RewrapProgress {
  /** The master-key version everything is being moved to. */
  version: number;
  resealed: number;
  /** Rows that did not open (their master key is gone or they were tampered with): now `needs_reentry`. */
  unopenable: number;
  remaining: number;
}

export async function rewrapBatch(db: Database, config: Config, logger: Logger): Promise<RewrapProgress> {
  const version = config.masterKeys[0]?.version ?? 0;
  let resealed = 0;
  let unopenable = 0;
  for (const row of await staleRows(db, version, REWRAP_BATCH_SIZE)) {
    const context = { ownerId: row.ownerId, provider: row.provider, baseUrl: row.baseUrl };
    const plaintext = await open(row.ciphertext, context, config.masterKeys);
    if (plaintext === null) {
      await markNeedsReentry(db, row);
      unopenable++;
      continue;
    }
    await replaceCiphertext(db, row, await seal(plaintext, context, config.masterKeys));
    resealed++;
  }
  const progress = { version, resealed, unopenable, remaining: await countStaleRows(db, version) };
  logger.log("info", "provider_keys_rewrap", { ...progress });
  return progress;
}

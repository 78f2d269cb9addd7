/** A change to every active key of one owner, under the marker protocol (docs/DESIGN.md#marker-protocol). */
import type { Database } from "../db/client";
import type { ApiKeyRow } from "../db/schema";
import type { Logger } from "../observability/logger";
import { changeKeys, effectsOf, type MarkerStores } from "./marker";
import { activeKeyIds, keyStateOf } from "./repository";

/**
 * Marks every active key of the owner `changing`, runs `commit` (which returns the keys as they now
 * are) and writes their markers. `undefined`: the first step failed and nothing was changed.
 */
export async function changeOwnerKeys(
  stores: MarkerStores & { db: Database },
  logger: Logger,
  ownerId: string,
  commit: () => Promise<ApiKeyRow[]>,
): Promise<ApiKeyRow[] | undefined> {
  const outcome = await changeKeys(stores, logger, await activeKeyIds(stores.db, ownerId), commit, (rows) =>
    effectsOf(rows.map(keyStateOf), Date.now()),
  );
  return outcome.ok ? outcome.value : undefined;
}

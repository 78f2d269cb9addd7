import { systemActor } from "../audit/events";
import type { Config } from "../config/env";
import { createDb } from "../db/client";
import { REVOKED_MARKER, writeMarkers } from "../keys/marker";
import { revokeAllKeys } from "../keys/repository";
import type { Logger } from "../observability/logger";
import { createRedis } from "../redis/client";

export interface RevokeAllResult {
  revokedKeyIds: string[];
}

/**
 * Account deletion or compromise: every active key of the owner is revoked (audited, same marker
 * protocol as DELETE). Throws when the markers cannot be written; calling again re-writes them.
 */
export async function revokeAllKeysOf(
  config: Config,
  logger: Logger,
  ownerId: string,
  reason: string,
): Promise<RevokeAllResult> {
  const ids = await revokeAllKeys(createDb(config), ownerId, systemActor("rpc"), reason);
  await writeMarkers(createRedis(config), new Map(ids.map((id) => [id, REVOKED_MARKER])), logger);
  return { revokedKeyIds: ids };
}

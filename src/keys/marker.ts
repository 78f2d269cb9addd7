import type { Redis } from "@upstash/redis/cloudflare";
import { ApiError } from "../http/errors";
import type { Logger } from "../observability/logger";

/**
 * The key marker (DESIGN §4): `vk:key:<id>` holds the row's current version, or `revoked`.
 * A cached key record is trusted only while the marker equals the version it was read at.
 */
export const REVOKED_MARKER = "revoked";
export const markerKey = (keyId: string) => `vk:key:${keyId}`;
export type MarkerValue = number | typeof REVOKED_MARKER;

/**
 * Written after the database commit and before the endpoint answers, with no TTL. When it cannot be
 * written the caller gets 503: the change is committed, and repeating the request re-writes it.
 */
export async function writeMarkers(
  redis: Redis,
  markers: Map<string, MarkerValue>,
  logger: Logger,
): Promise<void> {
  if (markers.size === 0) return;
  const entries = Object.fromEntries([...markers].map(([id, value]) => [markerKey(id), String(value)]));
  try {
    await redis.mset(entries);
  } catch (error) {
    logger.log("error", "marker_write_failed", { keyIds: [...markers.keys()], error });
    throw new ApiError(
      "service_unavailable",
      "The change is saved but could not be propagated yet; repeat the request.",
    );
  }
}

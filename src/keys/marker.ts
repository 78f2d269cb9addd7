import type { Redis } from "@upstash/redis/cloudflare";
import type { Logger } from "../observability/logger";
import { markerKey } from "./keyspace";

/**
 * The key marker (docs/DESIGN.md#marker-protocol): holds the row's current version, or `revoked`.
 * A cached key record is trusted only while the marker equals the version it was read at.
 */
export const REVOKED_MARKER = "revoked";
export type MarkerValue = number | typeof REVOKED_MARKER;

export type MarkerWrite = "written" | "failed";

/**
 * Written after the database commit and before the endpoint answers, with no TTL. A failure is
 * logged and reported as `failed`: the change is committed, and repeating the request re-writes it.
 */
export async function writeMarkers(
  redis: Redis,
  markers: Map<string, MarkerValue>,
  logger: Logger,
): Promise<MarkerWrite> {
  if (markers.size === 0) return "written";
  const entries = Object.fromEntries([...markers].map(([id, value]) => [markerKey(id), String(value)]));
  try {
    await redis.mset(entries);
    return "written";
  } catch (error) {
    logger.log("error", "marker_write_failed", { keyIds: [...markers.keys()], error });
    return "failed";
  }
}

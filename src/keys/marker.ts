/**
 * The writer's side of the marker protocol (docs/DESIGN.md#marker-protocol). Every change to a key
 * runs three steps:
 *   (a) its marker becomes `changing` for 30 s — if Redis fails, the change is refused (503) and
 *       nothing changed;
 *   (b) the database commit (version + 1) — if it fails, nothing changed and `changing` expires;
 *   (c) the marker becomes the new version (or `revoked`), with the key-hash index beside it — if
 *       only this fails, the change is still enforced: readers re-read on `changing` or on a
 *       missing marker, and the answer is the success.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Logger } from "../observability/logger";
import { type IndexWrites, writeIndex } from "./hash-index";
import { markerKey } from "./keyspace";
import { applyToCopy, CLEARED, type LoggedValue, logMarkerWrites } from "./marker-sync";

/**
 * Where markers are written: the primary, and under the leased topology every region's copy too
 * (through the marker log, src/keys/marker-sync.ts). `RequestStores` is one.
 */
export interface MarkerStores {
  redis: Redis;
  regionalRedis: readonly { name: string; redis: Redis }[];
}

/** One marker write as the protocol has it: `changing` for 30 s, `cleared` deleted, else kept. */
function writeMarker(redis: Redis, keyId: string, value: LoggedValue): Promise<unknown> {
  if (value === CHANGING_MARKER) return redis.set(markerKey(keyId), value, { ex: CHANGING_TTL_SECONDS });
  if (value === CLEARED) return redis.del(markerKey(keyId));
  return redis.set(markerKey(keyId), value);
}

/**
 * Writes markers on the primary — logged for the regions when there are any, which then get them
 * directly too (best effort: a region that misses them pulls the log).
 */
async function writeMarkers(
  stores: MarkerStores,
  writes: readonly { keyId: string; value: LoggedValue }[],
  logger: Logger,
): Promise<void> {
  if (stores.regionalRedis.length === 0) {
    await Promise.all(writes.map(({ keyId, value }) => writeMarker(stores.redis, keyId, value)));
    return;
  }
  const logged = await logMarkerWrites(stores.redis, writes);
  await Promise.all(
    stores.regionalRedis.map(({ name, redis }) =>
      applyToCopy(redis, logged).catch((error) =>
        logger.log("warn", "region_marker_write_failed", { region: name, error }),
      ),
    ),
  );
}

export const REVOKED_MARKER = "revoked";
export const CHANGING_MARKER = "changing";
/** How long a `changing` marker lives when its writer never finishes. */
export const CHANGING_TTL_SECONDS = 30;
export type MarkerValue = number | typeof REVOKED_MARKER;

/** What step (c) writes once the commit is in. */
export interface KeyEffects {
  markers: Map<string, MarkerValue>;
  index: IndexWrites;
}

export type ChangeOutcome<T> =
  /** `propagated` false: step (c) failed; the change is enforced anyway. */
  | { ok: true; value: T; propagated: boolean }
  /** Step (a) failed: nothing was changed. */
  | { ok: false };

export async function changeKeys<T>(
  stores: MarkerStores,
  logger: Logger,
  keyIds: readonly string[],
  commit: () => Promise<T>,
  effects: (value: T) => KeyEffects,
): Promise<ChangeOutcome<T>> {
  try {
    await writeMarkers(
      stores,
      keyIds.map((keyId) => ({ keyId, value: CHANGING_MARKER })),
      logger,
    );
  } catch (error) {
    logger.log("error", "marker_change_refused", { keyIds, error });
    return { ok: false };
  }
  const value = await commit();
  const done = effects(value);
  // A key the commit did not touch loses its `changing` marker: readers re-read and restore it.
  const untouched = keyIds.filter((id) => !done.markers.has(id));
  return { ok: true, value, propagated: await finishChange(stores, done, untouched, logger) };
}

/** Step (c) alone: also used to heal markers of keys that are already dead. */
export async function finishChange(
  stores: MarkerStores,
  { markers, index }: KeyEffects,
  cleared: readonly string[],
  logger: Logger,
): Promise<boolean> {
  const writes = [
    ...[...markers].map(([keyId, value]) => ({ keyId, value: String(value) })),
    ...cleared.map((keyId) => ({ keyId, value: CLEARED })),
  ];
  try {
    await Promise.all([writeMarkers(stores, writes, logger), writeIndex(stores.redis, index)]);
    return true;
  } catch (error) {
    logger.log("warn", "marker_write_failed", { keyIds: [...markers.keys()], error });
    return false;
  }
}

/** What a key change leaves behind, as the storage layer reads it back. */
export interface KeyState {
  id: string;
  version: number;
  revoked: boolean;
  hash: string;
  previousHash: string | null;
  previousExpiresAt: Date | null;
}

/** The markers and index entries that describe these keys as they now are. */
export function effectsOf(keys: readonly KeyState[], nowMs: number): KeyEffects {
  const markers = new Map<string, MarkerValue>();
  const index: IndexWrites = { set: [], del: [] };
  for (const key of keys) {
    markers.set(key.id, key.revoked ? REVOKED_MARKER : key.version);
    if (key.revoked) {
      index.del.push(key.hash, ...(key.previousHash ? [key.previousHash] : []));
      continue;
    }
    index.set.push({ hash: key.hash, keyId: key.id });
    if (!key.previousHash) continue;
    const graceMs = (key.previousExpiresAt?.getTime() ?? 0) - nowMs;
    if (graceMs > 0)
      index.set.push({ hash: key.previousHash, keyId: key.id, ttlSeconds: Math.ceil(graceMs / 1000) });
    else index.del.push(key.previousHash);
  }
  return { markers, index };
}

/**
 * The Cron Trigger's rebuild of the key-hash index (docs/STORAGE.md#redis): one bounded batch of
 * active keys per run, resuming where the last run stopped, so entries lost by Redis (or never
 * written because Redis failed at a key change) come back within a few runs.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Database } from "../db/client";
import type { Logger } from "../observability/logger";
import { writeIndex } from "./hash-index";
import { KEY_INDEX_REBUILD_CURSOR } from "./keyspace";
import { effectsOf } from "./marker";
import { activeKeysAfter, keyStateOf } from "./repository";

export const INDEX_REBUILD_BATCH = 500;

export interface IndexRebuildProgress {
  written: number;
  /** True when this batch finished a pass over every active key (the next run starts again). */
  passComplete: boolean;
}

export async function rebuildIndexBatch(
  db: Database,
  redis: Redis,
  logger: Logger,
): Promise<IndexRebuildProgress> {
  const cursor = await redis.get<string>(KEY_INDEX_REBUILD_CURSOR);
  const rows = await activeKeysAfter(db, cursor, INDEX_REBUILD_BATCH);
  const last = rows.at(-1);
  const passComplete = rows.length < INDEX_REBUILD_BATCH;
  await Promise.all([
    writeIndex(redis, effectsOf(rows.map(keyStateOf), Date.now()).index),
    passComplete || !last
      ? redis.del(KEY_INDEX_REBUILD_CURSOR)
      : redis.set(KEY_INDEX_REBUILD_CURSOR, last.id),
  ]);
  const progress = { written: rows.length, passComplete };
  logger.log("info", "key_index_rebuild", { ...progress });
  return progress;
}

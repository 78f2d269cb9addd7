/**
 * The key-hash index (docs/STORAGE.md#redis): SHA-256 of every live secret → key id. It lets the
 * key check tell a valid cold key from an unknown one without Neon, for clients over their
 * failed-auth limit only. Written with every key change; the Cron Trigger rebuilds what is missing.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { keyHashIndexKey } from "./keyspace";

export interface IndexWrites {
  /** `ttlSeconds` for a previous secret in its grace period; none for a current secret. */
  set: { hash: string; keyId: string; ttlSeconds?: number }[];
  del: string[];
}

export function writeIndex(redis: Redis, { set, del }: IndexWrites): Promise<unknown> {
  return Promise.all([
    ...set.map(({ hash, keyId, ttlSeconds }) =>
      ttlSeconds
        ? redis.set(keyHashIndexKey(hash), keyId, { ex: ttlSeconds })
        : redis.set(keyHashIndexKey(hash), keyId),
    ),
    ...(del.length > 0 ? [redis.del(...del.map(keyHashIndexKey))] : []),
  ]);
}

/** Whether this hash belongs to a key, as far as the index knows (a write-class read: never a lagging replica). */
export async function indexHas(redis: Redis, hash: string): Promise<boolean> {
  return (await redis.getex(keyHashIndexKey(hash))) !== null;
}

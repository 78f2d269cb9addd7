import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config/env";
import { createDb, type Database } from "../db/client";
import { createRedis } from "../redis/client";

/**
 * One Drizzle database per isolate and configuration: over Neon's HTTP driver it holds no I/O
 * object (each query is its own `fetch`), so sharing it across requests is safe and saves
 * building it on every cold lookup, last-used write and `/v1/projects` request.
 */
const databases = new WeakMap<Config, Database>();

function sharedDb(config: Config): Database {
  let db = databases.get(config);
  if (!db) {
    db = createDb(config);
    databases.set(config, db);
  }
  return db;
}

/**
 * The stores of ONE request (or RPC call): the isolate's database, and a Redis client of the
 * request's own, created on first use. Routes, the key check and RPC methods all get their stores
 * from here (`c.var.stores` on HTTP).
 */
export class RequestStores {
  private redisClient: Redis | undefined;

  constructor(readonly config: Config) {}

  get db(): Database {
    return sharedDb(this.config);
  }

  /** Per request: an auto-pipelining client must never be shared by two requests. */
  get redis(): Redis {
    this.redisClient ??= createRedis(this.config);
    return this.redisClient;
  }
}

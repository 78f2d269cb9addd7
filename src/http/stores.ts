import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config/env";
import { createDb, type Database } from "../db/client";
import { createRedis } from "../redis/client";

/**
 * The database and Redis of ONE request (or RPC call), each created on first use. Routes, the key
 * check and RPC methods all get their stores from here (`c.var.stores` on HTTP).
 */
export class RequestStores {
  private database: Database | undefined;
  private redisClient: Redis | undefined;

  constructor(readonly config: Config) {}

  get db(): Database {
    this.database ??= createDb(this.config);
    return this.database;
  }

  /** Per request: an auto-pipelining client must never be shared by two requests. */
  get redis(): Redis {
    this.redisClient ??= createRedis(this.config);
    return this.redisClient;
  }
}

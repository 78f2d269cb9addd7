import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config/env";
import { type CheckRegion, regionFor } from "../config/regions";
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

export interface RegionalRedis {
  name: string;
  redis: Redis;
}

/**
 * The stores of ONE request (or RPC call): the isolate's database, and Redis clients of the
 * request's own, created on first use. Routes, the key check and RPC methods all get their stores
 * from here (`c.var.stores` on HTTP).
 */
export class RequestStores {
  private redisClient: Redis | undefined;
  private checkClient: Redis | undefined;
  private regionClients: RegionalRedis[] | undefined;
  /** Where this request's key check runs (docs/DESIGN.md#regions): the primary unless `leased`. */
  readonly region: CheckRegion;

  /** `continent`: the request's `cf.continent`, absent for RPC calls. */
  constructor(
    readonly config: Config,
    continent?: string,
  ) {
    this.region = regionFor(config.keyCheck, continent);
  }

  get db(): Database {
    return sharedDb(this.config);
  }

  /** The primary. Per request: an auto-pipelining client must never be shared by two requests. */
  get redis(): Redis {
    this.redisClient ??= createRedis(this.config);
    return this.redisClient;
  }

  /** The database the key check asks: the region's own, or the primary itself. */
  get checkRedis(): Redis {
    if (this.region.home) return this.redis;
    this.checkClient ??= createRedis({ redis: this.region.redis });
    return this.checkClient;
  }

  /** Every regional database of the `leased` topology (none otherwise): the writer copies markers there. */
  get regionalRedis(): readonly RegionalRedis[] {
    const topology = this.config.keyCheck;
    this.regionClients ??=
      topology.topology === "leased"
        ? topology.regions.map((region) => ({ name: region.name, redis: createRedis({ redis: region }) }))
        : [];
    return this.regionClients;
  }
}

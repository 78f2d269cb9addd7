/**
 * The writer side, in region 0: key creation and revocation through the real marker protocol
 * (src/keys/marker.ts) and storage (src/keys/repository.ts). With a database per region the
 * markers are written to every one; a region cut off gets them once it is reachable again.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../../src/config/env";
import { createDb, type Database } from "../../src/db/client";
import { changeKeys, effectsOf, finishChange } from "../../src/keys/marker";
import { insertKey, keyStateOf, revokeKey } from "../../src/keys/repository";
import { generateKey, hashKey, keyStart } from "../../src/keys/token";
import type { Logger } from "../../src/observability/logger";
import { createRedis, UPSTASH_TIMEOUT_MS } from "../../src/redis/client";
import type { StoreEndpoint } from "./protocol";

const ACTOR = { id: "bench-regions", ip: null, userAgent: null };
const logger: Logger = { log: () => {}, child: () => logger };

/** A region's write is tried again this often until it lands, for at most REDELIVER_FOR_MS. */
const REDELIVER_EVERY_MS = 250;
const REDELIVER_FOR_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Method = "set" | "del";
const call = (endpoint: StoreEndpoint, method: Method, args: unknown[]) =>
  (createRedis({ redis: endpoint } as Config)[method] as (...a: unknown[]) => Promise<unknown>)(...args);

async function untilDelivered(endpoint: StoreEndpoint, method: Method, args: unknown[]): Promise<void> {
  const giveUpAtMs = Date.now() + REDELIVER_FOR_MS;
  while (Date.now() < giveUpAtMs) {
    try {
      await call(endpoint, method, args);
      return;
    } catch {
      await sleep(REDELIVER_EVERY_MS);
    }
  }
}

/**
 * `set` and `del` (all the marker protocol writes) on every region's database. The primary's
 * answer is the answer; every other region gets its writes in order, each repeated until it lands,
 * and the answer waits for them no longer than one Upstash deadline.
 */
function fanOut(endpoints: readonly StoreEndpoint[]): Redis {
  const queues = endpoints.map(() => Promise.resolve());
  const write =
    (method: Method) =>
    async (...args: unknown[]) => {
      const answer = call(endpoints[0] as StoreEndpoint, method, args);
      const delivered = endpoints.slice(1).map((endpoint, i) => {
        const queued = (queues[i + 1] as Promise<void>).then(() => untilDelivered(endpoint, method, args));
        queues[i + 1] = queued;
        return Promise.race([queued, sleep(UPSTASH_TIMEOUT_MS)]);
      });
      const [value] = await Promise.all([answer, ...delivered]);
      return value;
    };
  return { set: write("set"), del: write("del") } as unknown as Redis;
}

export class Writer {
  private readonly db: Database;
  /** Several regions: one writer to all of them, which keeps each region's writes in order. */
  private readonly regional: Redis | undefined;

  constructor(
    databaseUrl: string,
    neonFetchEndpoint: string,
    /** The primary first. */
    private readonly redis: StoreEndpoint[],
  ) {
    this.db = createDb({ databaseUrl, neonFetchEndpoint } as Config);
    this.regional = redis.length > 1 ? fanOut(redis) : undefined;
  }

  /** One region: a client per change, as a request has (src/redis/client.ts). */
  private client(): Redis {
    return this.regional ?? createRedis({ redis: this.redis[0] as StoreEndpoint } as Config);
  }

  async createKey(ownerId: string, name: string, rateLimit: number): Promise<{ id: string; secret: string }> {
    const secret = generateKey();
    const row = await insertKey(
      this.db,
      {
        ownerId,
        name,
        permissions: ["projects:read"],
        rateLimit,
        expiresAt: null,
        projects: null,
        hash: await hashKey(secret),
        start: keyStart(secret),
      },
      ACTOR,
    );
    if (typeof row === "string") throw new Error(`key not created: ${row}`);
    await finishChange(
      { redis: this.client(), regionalRedis: [] },
      effectsOf([keyStateOf(row)], Date.now()),
      [],
      logger,
    );
    return { id: row.id, secret };
  }

  /** Revokes through the marker protocol; false when refused (step (a) failed: nothing changed). */
  async revoke(ownerId: string, id: string): Promise<boolean> {
    const outcome = await changeKeys(
      { redis: this.client(), regionalRedis: [] },
      logger,
      [id],
      () => revokeKey(this.db, ownerId, id, ACTOR),
      (row) => effectsOf(row ? [keyStateOf(row)] : [], Date.now()),
    );
    return outcome.ok;
  }
}

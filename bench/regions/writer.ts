/**
 * The writer side, in region 0: key creation and revocation through the real marker protocol
 * (src/keys/marker.ts) and storage (src/keys/repository.ts), with a dashboard request's stores
 * (src/http/stores.ts): the primary, and under leased every region's database, to which the
 * Worker's own writer logs and copies each marker. Multi-region has no such writer in the Worker:
 * there the bench writes every marker to every region's database itself (`fanOut`).
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../../src/config/env";
import { createDb, type Database } from "../../src/db/client";
import { RequestStores } from "../../src/http/stores";
import { changeKeys, effectsOf, finishChange, type MarkerStores } from "../../src/keys/marker";
import { insertKey, keyStateOf, revokeKey } from "../../src/keys/repository";
import { generateKey, hashKey, keyStart } from "../../src/keys/token";
import type { Logger } from "../../src/observability/logger";
import { createRedis, UPSTASH_TIMEOUT_MS } from "../../src/redis/client";
import type { StoreEndpoint } from "./protocol";

const ACTOR = { id: "bench-regions", ip: null, userAgent: null };

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
  /** The writer's log events (e.g. `region_marker_write_failed`: a region's copy not written). */
  readonly warnings: Record<string, number> = {};
  private readonly logger: Logger = {
    log: (_level, event) => {
      this.warnings[event] = (this.warnings[event] ?? 0) + 1;
    },
    child: () => this.logger,
  };
  private readonly db: Database;
  /** Multi-region: one writer to all regions' databases, which keeps each region's writes in order. */
  private readonly fannedOut: Redis | undefined;

  constructor(
    /** The Worker's configuration: the primary, and its `keyCheck` (leased: the regions). */
    private readonly config: Config,
    /** Multi-region only: every region's database, the primary first, each written by the bench. */
    fanOutTo: readonly StoreEndpoint[] = [],
  ) {
    this.db = createDb(config);
    this.fannedOut = fanOutTo.length > 1 ? fanOut(fanOutTo) : undefined;
  }

  /** A change's stores, as a request has them (a client of its own per change). */
  private stores(): MarkerStores {
    if (this.fannedOut) return { redis: this.fannedOut, regionalRedis: [] };
    return new RequestStores(this.config);
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
    await finishChange(this.stores(), effectsOf([keyStateOf(row)], Date.now()), [], this.logger);
    return { id: row.id, secret };
  }

  /** Revokes through the marker protocol; false when refused (step (a) failed: nothing changed). */
  async revoke(ownerId: string, id: string): Promise<boolean> {
    const outcome = await changeKeys(
      this.stores(),
      this.logger,
      [id],
      () => revokeKey(this.db, ownerId, id, ACTOR),
      (row) => effectsOf(row ? [keyStateOf(row)] : [], Date.now()),
    );
    return outcome.ok;
  }
}

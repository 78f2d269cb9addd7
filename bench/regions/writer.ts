/**
 * The writer side, in region 0: key creation and revocation through the real marker protocol
 * (src/keys/marker.ts) and storage (src/keys/repository.ts). For multi-region the markers are
 * written to every region's database; a region it cannot reach misses the write.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../../src/config/env";
import { createDb, type Database } from "../../src/db/client";
import { changeKeys, effectsOf, finishChange } from "../../src/keys/marker";
import { insertKey, keyStateOf, revokeKey } from "../../src/keys/repository";
import { generateKey, hashKey, keyStart } from "../../src/keys/token";
import type { Logger } from "../../src/observability/logger";
import { createRedis } from "../../src/redis/client";
import type { StoreEndpoint } from "./protocol";

const ACTOR = { id: "bench-regions", ip: null, userAgent: null };
const logger: Logger = { log: () => {}, child: () => logger };

/** `set` and `del` (all the marker protocol writes) on every database; the primary's answer counts. */
function fanOut(clients: Redis[]): Redis {
  const all =
    (method: "set" | "del") =>
    async (...args: unknown[]) => {
      const answers = await Promise.allSettled(
        clients.map((client) => (client[method] as (...a: unknown[]) => Promise<unknown>)(...args)),
      );
      const primary = answers[0];
      if (primary?.status === "rejected") throw primary.reason;
      return primary?.value;
    };
  return { set: all("set"), del: all("del") } as unknown as Redis;
}

export class Writer {
  private readonly db: Database;

  constructor(
    databaseUrl: string,
    neonFetchEndpoint: string,
    /** The primary first. */
    private readonly redis: StoreEndpoint[],
  ) {
    this.db = createDb({ databaseUrl, neonFetchEndpoint } as Config);
  }

  /** A client per change, as a request has (src/redis/client.ts). */
  private client(): Redis {
    const clients = this.redis.map((endpoint) => createRedis({ redis: endpoint } as Config));
    return clients.length === 1 ? (clients[0] as Redis) : fanOut(clients);
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
    await finishChange(this.client(), effectsOf([keyStateOf(row)], Date.now()), [], logger);
    return { id: row.id, secret };
  }

  /** Revokes through the marker protocol; false when refused (step (a) failed: nothing changed). */
  async revoke(ownerId: string, id: string): Promise<boolean> {
    const outcome = await changeKeys(
      this.client(),
      logger,
      [id],
      () => revokeKey(this.db, ownerId, id, ACTOR),
      (row) => effectsOf(row ? [keyStateOf(row)] : [], Date.now()),
    );
    return outcome.ok;
  }
}

/**
 * The simulator's stores on this machine: a fresh Postgres database behind one local Neon server,
 * and one claimed Redis logical database per region, each behind its own local Upstash server
 * (the primary is region 0's). Everything is dropped or emptied on stop.
 */
import { randomBytes } from "node:crypto";
import { migrateDatabase } from "../../scripts/db/migrate";
import { type NeonServer, startNeonServer } from "../../scripts/local/neon-server";
import {
  claimRedisDatabase,
  createDatabase,
  dropDatabase,
  releaseRedisDatabase,
  withDatabase,
} from "../../scripts/local/stores";
import { startUpstashServer, type UpstashServer } from "../../scripts/local/upstash-server";
import { localStoreUrls } from "../stores";

// The same stores as `npm run bench`, loopback only.
const { adminUrl: POSTGRES_ADMIN_URL, redisUrl: REDIS_URL } = localStoreUrls();

export interface SimStores {
  databaseUrl: string;
  neon: NeonServer;
  /** One per region, index = region. */
  upstash: UpstashServer[];
  stop(): Promise<void>;
}

export async function startSimStores(regions: number): Promise<SimStores> {
  const runId = `bench-regions-${randomBytes(4).toString("hex")}`;
  const database = runId.replaceAll("-", "_");
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const next of stops.reverse()) await next().catch((error: unknown) => console.error(error));
  };
  try {
    await createDatabase(POSTGRES_ADMIN_URL, database);
    stops.push(() => dropDatabase(POSTGRES_ADMIN_URL, database));
    const databaseUrl = withDatabase(POSTGRES_ADMIN_URL, database);
    await migrateDatabase(databaseUrl);
    const neon = await startNeonServer();
    stops.push(() => neon.close());
    const upstash: UpstashServer[] = [];
    for (let region = 0; region < regions; region++) {
      const redisUrl = await claimRedisDatabase(REDIS_URL, runId);
      stops.push(() => releaseRedisDatabase(redisUrl, runId));
      const server = await startUpstashServer({ redisUrl, token: randomBytes(16).toString("hex") });
      stops.push(() => server.close());
      upstash.push(server);
    }
    return { databaseUrl, neon, upstash, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

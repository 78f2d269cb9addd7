/** Where a bench run keeps its data: the machine's loopback Postgres and Redis, else private ones. */
import pg from "pg";
import { connectRedis } from "../scripts/local/redis";
import type { PostgresSource, RedisSource } from "../scripts/local/stack";
import { assertLoopbackUrl, withDatabase } from "../scripts/local/stores";

export interface StoresLabel {
  postgres: string;
  redis: string;
}

async function reachablePostgres(adminUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function reachableRedis(url: string): Promise<boolean> {
  try {
    await (await connectRedis(url, { connectTimeoutMs: 1000 })).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The Postgres server (its admin database) and Redis the benches use: `LOCAL_DATABASE_URL`'s
 * server and `LOCAL_REDIS_URL`, by default the machine's; anything not on loopback is refused.
 */
export function localStoreUrls(): { adminUrl: string; redisUrl: string } {
  const adminUrl = withDatabase(
    assertLoopbackUrl(
      process.env.LOCAL_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres",
      "LOCAL_DATABASE_URL",
    ).toString(),
    "postgres",
  );
  const redisUrl = assertLoopbackUrl(
    process.env.LOCAL_REDIS_URL || "redis://127.0.0.1:6379",
    "LOCAL_REDIS_URL",
  ).toString();
  return { adminUrl, redisUrl };
}

/**
 * The machine's Postgres and Redis when they answer (a fresh database, dropped afterwards; an empty
 * claimed logical database, emptied afterwards), else an in-memory PGlite and a private redis-server.
 */
export async function chooseStores(
  runId: string,
): Promise<{ postgres: PostgresSource; redis: RedisSource; label: StoresLabel }> {
  const { adminUrl, redisUrl } = localStoreUrls();
  const [pgUp, redisUp] = await Promise.all([reachablePostgres(adminUrl), reachableRedis(redisUrl)]);
  const host = (url: string) => new URL(url).host;
  return {
    postgres: pgUp ? { kind: "fresh", adminUrl, name: runId } : { kind: "pglite" },
    redis: redisUp ? { kind: "claim", url: redisUrl, runId } : { kind: "redis-server" },
    label: {
      postgres: pgUp ? `PostgreSQL at ${host(adminUrl)} (fresh database)` : "PGlite in memory (fallback)",
      redis: redisUp
        ? `Redis at ${host(redisUrl)} (claimed logical database)`
        : "private redis-server (fallback)",
    },
  };
}

/**
 * Local Postgres databases and Redis logical databases for `npm start` and test runs.
 * Local tooling only ever touches loopback hosts (DATABASE_URL may be production: never read here).
 */
import pg from "pg";
import { isLoopbackHost } from "./loopback";
import { connectRedis, ErrorReply } from "./redis";

export function assertLoopbackUrl(url: string, name: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${name} is not a URL`);
  }
  if (!isLoopbackHost(parsed.hostname)) {
    throw new Error(`${name} must point at this machine (loopback), not ${parsed.hostname}`);
  }
  return parsed;
}

/** The same server, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withAdmin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const SAFE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function createDatabase(
  adminUrl: string,
  name: string,
  { ifMissing = false } = {},
): Promise<void> {
  if (!SAFE_NAME.test(name)) throw new Error(`unsafe database name: ${name}`);
  await withAdmin(adminUrl, async (client) => {
    if (ifMissing) {
      const found = await client.query("select 1 from pg_database where datname = $1", [name]);
      if (found.rowCount) return;
    }
    await client.query(`create database "${name}"`);
  });
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!SAFE_NAME.test(name)) throw new Error(`unsafe database name: ${name}`);
  await withAdmin(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
}

const CLAIM_KEY = "__vulk_keys_claim__";
const CLAIM_TTL_SECONDS = 6 * 3600;

/**
 * Claims an EMPTY logical database (1–15) of the Redis at `redisUrl` for this run: the claim key
 * is set with NX, so two concurrent runs never share one. Returns the URL of the claimed database.
 */
export async function claimRedisDatabase(redisUrl: string, runId: string): Promise<string> {
  assertLoopbackUrl(redisUrl, "Redis URL");
  for (let db = 1; db <= 15; db++) {
    const url = withDatabase(redisUrl, String(db));
    const client = await connectRedis(url);
    try {
      if ((await client.call(["DBSIZE"])) !== 0) continue;
      const claimed = await client.call(["SET", CLAIM_KEY, runId, "NX", "EX", CLAIM_TTL_SECONDS]);
      if (claimed === "OK") return url;
    } finally {
      await client.close();
    }
  }
  throw new Error("no empty Redis logical database (1–15) is free to claim for this run");
}

/** Empties a database this run claimed (it was empty when claimed), only if the claim is still ours. */
export async function releaseRedisDatabase(url: string, runId: string): Promise<void> {
  const client = await connectRedis(url);
  try {
    const owner = await client.call(["GET", CLAIM_KEY]);
    if (owner === null || owner.toString() !== runId) return;
    const reply = await client.call(["FLUSHDB"]);
    if (reply instanceof ErrorReply) throw new Error(reply.message);
  } finally {
    await client.close();
  }
}

/**
 * TEST_DATABASE_URL and TEST_REDIS_URL choose the stores of a run: the defaults without them, the
 * named servers with them — for the global setup's stack and for the node tests' own stores.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { connectRedis } from "../../scripts/local/redis";
import { DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL, testStoreUrls } from "../setup/store-urls";
import { stack } from "../support/stack";

const hostOf = (url: string) => new URL(url).host;

describe("test store URLs", () => {
  it("default to this machine's Postgres and Redis and follow the variables when set", () => {
    expect(testStoreUrls({})).toEqual({
      adminUrl: DEFAULT_TEST_DATABASE_URL,
      redisBaseUrl: DEFAULT_TEST_REDIS_URL,
    });
    const named = {
      TEST_DATABASE_URL: "postgres://tester@localhost:6543/admin",
      TEST_REDIS_URL: "redis://[::1]:6390",
    };
    expect(testStoreUrls(named)).toEqual({
      adminUrl: named.TEST_DATABASE_URL,
      redisBaseUrl: named.TEST_REDIS_URL,
    });
    expect(() => testStoreUrls({ TEST_DATABASE_URL: "postgres://db.example.invalid/x" })).toThrow(/loopback/);
    expect(() => testStoreUrls({ TEST_REDIS_URL: "redis://10.0.0.1:6379" })).toThrow(/loopback/);
  });

  it("the run's stack lives on the servers the variables name (or the defaults)", async () => {
    const { adminUrl, redisBaseUrl } = testStoreUrls();
    expect(hostOf(stack.databaseUrl)).toBe(hostOf(adminUrl));
    expect(hostOf(stack.redisUrl)).toBe(hostOf(redisBaseUrl));

    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string }>("select current_database() as db");
      expect(rows[0]?.db).toBe(new URL(stack.databaseUrl).pathname.slice(1));
    } finally {
      await client.end();
    }
    const redis = await connectRedis(stack.redisUrl);
    try {
      expect(await redis.call(["PING"])).toBe("PONG");
    } finally {
      await redis.close();
    }
  });
});

/**
 * Once per test run: a fresh Postgres database (migrated, dropped afterwards), a claimed empty
 * Redis logical database, and the two local protocol servers in front of them.
 */
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { migrateDatabase } from "../../scripts/db/migrate";
import { startNeonServer } from "../../scripts/local/neon-server";
import {
  claimRedisDatabase,
  createDatabase,
  dropDatabase,
  releaseRedisDatabase,
  withDatabase,
} from "../../scripts/local/stores";
import { startUpstashServer } from "../../scripts/local/upstash-server";
import "../support/test-stack";
import { startFakeProviders } from "./fake-providers";
import { startFixtureServer } from "./fixture-server";
import { testStoreUrls } from "./store-urls";

export default async function setup(project: TestProject) {
  const { adminUrl, redisBaseUrl } = testStoreUrls();

  const runId = `vk_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await createDatabase(adminUrl, runId);
  const databaseUrl = withDatabase(adminUrl, runId);
  const cleanups: (() => Promise<void>)[] = [() => dropDatabase(adminUrl, runId)];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error("teardown:", e));
  };
  try {
    await migrateDatabase(databaseUrl);
    const redisUrl = await claimRedisDatabase(redisBaseUrl, runId);
    cleanups.push(() => releaseRedisDatabase(redisUrl, runId));
    const neon = await startNeonServer();
    cleanups.push(() => neon.close());
    const upstashToken = randomBytes(16).toString("hex");
    const upstash = await startUpstashServer({ redisUrl, token: upstashToken });
    cleanups.push(() => upstash.close());
    const providers = await startFakeProviders();
    cleanups.push(() => providers.close());
    const fixture = await startFixtureServer();
    cleanups.push(() => fixture.close());

    project.provide("stack", {
      databaseUrl,
      redisUrl,
      neonUrl: neon.url,
      neonSqlEndpoint: neon.sqlEndpoint,
      upstashUrl: upstash.url,
      upstashToken,
      fakeProvidersUrl: providers.url,
      fixtureUrl: fixture.url,
    });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/**
 * Once per test run — vitest runs it once per project, so each project has stores and servers of
 * its own: a fresh Postgres database (migrated, dropped afterwards), a claimed empty Redis logical
 * database, and the two local protocol servers in front of them. A project whose config provides
 * `keyCheckTopology: "leased"` also gets the leased topology's region: a second claimed Redis logical
 * database behind a second Upstash server with a token of its own.
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
import type { TestStack } from "../support/test-stack";
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
    let region: Pick<TestStack, "regionUpstashUrl" | "regionUpstashToken" | "regionRedisUrl"> = {};
    if (project.getProvidedContext().keyCheckTopology === "leased") {
      // Its own claim (DBSIZE of the primary's is no longer 0, so this is another database).
      const regionClaim = `${runId}_region`;
      const regionRedisUrl = await claimRedisDatabase(redisBaseUrl, regionClaim);
      cleanups.push(() => releaseRedisDatabase(regionRedisUrl, regionClaim));
      const regionUpstashToken = randomBytes(16).toString("hex");
      const regionUpstash = await startUpstashServer({ redisUrl: regionRedisUrl, token: regionUpstashToken });
      cleanups.push(() => regionUpstash.close());
      region = { regionUpstashUrl: regionUpstash.url, regionUpstashToken, regionRedisUrl };
    }
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
      ...region,
      fakeProvidersUrl: providers.url,
      fixtureUrl: fixture.url,
    });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

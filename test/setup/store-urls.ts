/**
 * Which Postgres and Redis a test run uses: `TEST_DATABASE_URL` (a server's admin database, used
 * only to create and drop the run's own databases) and `TEST_REDIS_URL` (a server whose empty
 * logical databases a run may claim), else the defaults on this machine. The global setup and the
 * node tests that make stores of their own all read them here. Loopback only.
 */
import { assertLoopbackUrl } from "../../scripts/local/stores";

export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379";

export interface TestStoreUrls {
  adminUrl: string;
  redisBaseUrl: string;
}

export function testStoreUrls(env: Record<string, string | undefined> = process.env): TestStoreUrls {
  const adminUrl = env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  const redisBaseUrl = env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
  assertLoopbackUrl(adminUrl, "TEST_DATABASE_URL");
  assertLoopbackUrl(redisBaseUrl, "TEST_REDIS_URL");
  return { adminUrl, redisBaseUrl };
}

import { env } from "cloudflare:workers";
import { loadConfig } from "../../src/config/env";
import { createDb } from "../../src/db/client";
import { createRedis } from "../../src/redis/client";

/** Direct access to the test run's Postgres and Redis, through the same clients the Worker uses. */
export const config = () => loadConfig(env);
export const db = () => createDb(config());
export const redis = () => createRedis(config());

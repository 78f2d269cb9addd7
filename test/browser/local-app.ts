/**
 * The Worker served the way a developer runs it: wrangler's dev server (its programmatic API) on
 * 127.0.0.1, by default with ENVIRONMENT=development, in front of this run's local Neon and Upstash
 * servers, with every built-in provider pointed at the fake providers.
 */
import { randomBytes } from "node:crypto";
import { unstable_startWorker } from "wrangler";
import { freePort } from "../../scripts/local/ports";
import { baseUrlsFor } from "../setup/fake-providers";
import type { TestStack } from "../support/test-stack";

export interface LocalApp {
  /** The origin the browser and the Node-side checks talk to, e.g. http://127.0.0.1:PORT */
  origin: string;
  /** The secrets this Worker was started with (the canary test looks for them in every output). */
  secrets: { SESSION_SECRET: string; PROVIDER_KEYS_MASTER_KEYS: string; UPSTASH_REDIS_REST_TOKEN: string };
  stop(): Promise<void>;
}

const secret = () => randomBytes(32).toString("base64");

export async function startLocalApp(
  stack: TestStack,
  { environment = "development" }: { environment?: "development" | "production" } = {},
): Promise<LocalApp> {
  // Nothing leaves this machine: no telemetry, no download of request.cf data.
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

  const vars = {
    ENVIRONMENT: environment,
    DASHBOARD_ORIGIN: "http://localhost:5173",
    DATABASE_URL: stack.databaseUrl,
    NEON_FETCH_ENDPOINT: stack.neonSqlEndpoint,
    UPSTASH_REDIS_REST_URL: stack.upstashUrl,
    PROVIDER_BASE_URLS: JSON.stringify(baseUrlsFor(stack.fakeProvidersUrl)),
  };
  const secrets = {
    UPSTASH_REDIS_REST_TOKEN: stack.upstashToken,
    SESSION_SECRET: secret(),
    PROVIDER_KEYS_MASTER_KEYS: `1:${secret()}`,
  };
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    // Given bindings win over wrangler.toml and a developer's .dev.vars.
    bindings: {
      ...Object.fromEntries(
        Object.entries(vars).map(([name, value]) => [name, { type: "plain_text", value }]),
      ),
      ...Object.fromEntries(
        Object.entries(secrets).map(([name, value]) => [name, { type: "secret_text", value }]),
      ),
    },
    sendMetrics: false,
    dev: {
      server: { hostname: "127.0.0.1", port: await freePort() },
      inspector: false,
      watch: false,
      liveReload: false,
      persist: false,
      // GET /__scheduled runs the Cron Trigger's handler once (the provider-key re-check test).
      testScheduled: true,
    },
  });
  try {
    await worker.ready;
    return { origin: (await worker.url).origin, secrets, stop: () => worker.dispose() };
  } catch (error) {
    await worker.dispose();
    throw error;
  }
}

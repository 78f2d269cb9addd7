import { randomBytes } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { baseUrlsFor } from "./test/setup/fake-providers";
import "./test/support/test-stack";

const GLOBAL_SETUP = "./test/setup/global-setup.ts";
/** The name @cloudflare/vitest-plugin gives the Worker under test in the "worker" project. */
const RUNNER_WORKER = "vitest-plugin-runner-worker";
const secret = (bytes = 32) => randomBytes(bytes).toString("base64");

export default defineConfig({
  test: {
    // Log lines of passing tests are noise; a failing test shows its own.
    silent: "passed-only",
    projects: [
      {
        // The local protocol servers, checked with the official clients from Node.
        test: { name: "node", include: ["test/node/**/*.test.ts"], globalSetup: GLOBAL_SETUP },
      },
      {
        // The Worker itself, inside workerd, against the local stack.
        plugins: [
          cloudflareTest(({ inject }) => {
            const stack = inject("stack");
            return {
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  // Explicit: a developer's .dev.vars (development) must not leak into the tests.
                  ENVIRONMENT: "production",
                  DATABASE_URL: stack.databaseUrl,
                  NEON_FETCH_ENDPOINT: stack.neonSqlEndpoint,
                  UPSTASH_REDIS_REST_URL: stack.upstashUrl,
                  UPSTASH_REDIS_REST_TOKEN: stack.upstashToken,
                  SESSION_SECRET: `${secret()},${secret()}`,
                  PROVIDER_KEYS_MASTER_KEYS: `1:${secret()}`,
                  DASHBOARD_ORIGIN: "https://dashboard.vulk.test",
                  PROVIDER_BASE_URLS: JSON.stringify(baseUrlsFor(stack.fakeProvidersUrl)),
                  GITHUB_SCANNING_KEYS_URL: `${stack.fixtureUrl}/github/secret-scanning-keys`,
                },
                // A second Worker bound to this one, as other VULK Workers are (test/worker/rpc-binding.test.ts).
                serviceBindings: { RPC_CALLER: "rpc-caller" },
                workers: [
                  {
                    name: "rpc-caller",
                    modules: true,
                    scriptPath: "./test/setup/rpc-caller.js",
                    compatibilityDate: "2026-11-01",
                    serviceBindings: { KEYS: { name: RUNNER_WORKER } },
                  },
                ],
              },
            };
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: GLOBAL_SETUP,
          // Files run one at a time: tests count the requests the shared local servers serve.
          fileParallelism: false,
        },
      },
      {
        // The Settings page in Chromium, against the Worker under wrangler's dev server (test/browser).
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          globalSetup: GLOBAL_SETUP,
          hookTimeout: 120_000,
          testTimeout: 60_000,
        },
      },
    ],
  },
});

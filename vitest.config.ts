import { randomBytes } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { baseUrlsFor } from "./test/setup/fake-providers";
import type { TestStack } from "./test/support/test-stack";

const GLOBAL_SETUP = "./test/setup/global-setup.ts";
const secret = (bytes = 32) => randomBytes(bytes).toString("base64");

/** The key-check suites, run a second time in the leased topology (project `worker-leased`). */
const KEY_CHECK_SUITES = [
  "v1-check",
  "v1-faults",
  "trust-faults",
  "account-limit",
  "key-lifecycle",
  "key-scope",
  "key-usage",
  "last-used",
  "bounded-caches",
  "keys",
  "rpc-binding",
  "leak-report",
  "leak-verdict",
  "v1-projects",
].map((suite) => `test/worker/${suite}.test.ts`);

/**
 * A project of the Worker itself, inside workerd, against its own local stack (vitest runs the
 * global setup once per project: its own databases and servers). `leased` also gets a region — a
 * second local Upstash server (test/setup/global-setup.ts) — that takes every continent.
 */
function workerProject(
  name: string,
  include: string[],
  topology: "single-primary" | "leased" = "single-primary",
): TestProjectInlineConfiguration {
  // The name @cloudflare/vitest-plugin gives the Worker under test: `vitest-plugin-runner-<project>`.
  const runnerWorker = `vitest-plugin-runner-${name.replace(/[^a-z0-9-]/gi, "_")}`;
  const topologyBindings = (stack: TestStack): Record<string, string> => {
    if (topology === "single-primary") return {}; // the default
    const { regionUpstashUrl: url, regionUpstashToken: token } = stack;
    if (!url || !token) throw new Error(`${name}: the global setup started no region Upstash server`);
    return {
      KEY_CHECK_TOPOLOGY: "leased",
      UPSTASH_REGIONS: JSON.stringify([{ name: "test-region", continents: ["*"], url, token }]),
    };
  };
  return {
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
              ...topologyBindings(stack),
            },
            // A second Worker bound to this one, as other VULK Workers are (test/worker/rpc-binding.test.ts).
            serviceBindings: { RPC_CALLER: "rpc-caller" },
            workers: [
              {
                name: "rpc-caller",
                modules: true,
                scriptPath: "./test/setup/rpc-caller.js",
                compatibilityDate: "2026-11-01",
                serviceBindings: { KEYS: { name: runnerWorker } },
              },
            ],
          },
        };
      }),
    ],
    test: {
      name,
      include,
      globalSetup: GLOBAL_SETUP,
      // Read by the global setup (the region's server) and test/support/stack.ts.
      provide: { keyCheckTopology: topology },
      // Files run one at a time: tests count the requests the local servers serve.
      fileParallelism: false,
    },
  };
}

export default defineConfig({
  test: {
    // Log lines of passing tests are noise; a failing test shows its own.
    silent: "passed-only",
    projects: [
      {
        // The local protocol servers, checked with the official clients from Node.
        test: { name: "node", include: ["test/node/**/*.test.ts"], globalSetup: GLOBAL_SETUP },
      },
      // The Worker in the default topology (single-primary).
      workerProject("worker", ["test/worker/**/*.test.ts"]),
      // The key-check suites again, in the leased topology: one region that takes every continent,
      // on a second local Upstash server (test/setup/global-setup.ts).
      workerProject("worker-leased", [...KEY_CHECK_SUITES, "test/worker-leased/**/*.test.ts"], "leased"),
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

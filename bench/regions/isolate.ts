/**
 * One isolate of one region (a worker thread: its own V8 isolate and module state, so the
 * verifier's per-isolate caches and breaker behave as in workerd). It runs the REAL key check
 * (src/verify/verifier.ts) at a fixed rate per key against the local stores, through the
 * region's simulated network, and reports every check.
 */
import { register } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import type { LogLevel } from "../../src/observability/logger";
import { Network } from "./network";
import type { FromIsolate, IsolateSetup, Samples, ToIsolate } from "./protocol";
import { checkConfig } from "./topology";

const setup = workerData as IsolateSetup;
const network = new Network(setup.links);
network.install();
let start: (atMs: number) => void = () => {};
const started = new Promise<number>((resolve) => {
  start = resolve;
});
parentPort?.on("message", (message: ToIsolate) => {
  if (message.type === "cut") network.setCut(setup.primaryOrigins, message.cut);
  else start(message.atMs);
});
// Design (b) only: its limiter in place of src/limits/sliding-window.ts. Leased is the Worker's own
// code, chosen by the configuration below.
if (setup.design === "multi-region") {
  register(new URL("./limiter-hook.mjs", import.meta.url), {
    data: { replacement: new URL("./multi-region-window.ts", import.meta.url).href },
  });
}

const { verify } = await import("../../src/verify/verifier");
const { RequestStores } = await import("../../src/http/stores");

/** What the verifier and RequestStores read of the configuration. */
const config = checkConfig({
  databaseUrl: setup.databaseUrl,
  neonFetchEndpoint: setup.neonFetchEndpoint,
  redis: setup.redis,
  accountRateLimit: setup.accountLimit,
  keyCheck: setup.keyCheck,
});

const warnings: Record<string, number> = {};
// workerd logs a rejection nobody handled and goes on (e.g. a limiter's background sync after the
// request failed); a worker thread would die of it.
process.on("unhandledRejection", () => {
  warnings.unhandled_rejection = (warnings.unhandled_rejection ?? 0) + 1;
});
// …and the late handling of such a rejection is not worth a line on the run's output.
process.removeAllListeners("warning");
const logger = {
  log(_level: LogLevel, event: string) {
    warnings[event] = (warnings[event] ?? 0) + 1;
  },
  child() {
    return logger;
  },
};

/** More checks in flight than this are not started (the isolate is bounded, as a Worker is). */
const MAX_IN_FLIGHT = 400;
const samples: Samples = { key: [], startMs: [], endMs: [], allowed: [] };
const background: Promise<unknown>[] = [];
/** Until every `waitUntil` has ended, also those started by background work itself. */
async function settleBackground(): Promise<void> {
  while (background.length > 0) await Promise.all(background.splice(0));
}
let inFlight = 0;

async function check(key: number, secret: string): Promise<void> {
  inFlight += 1;
  const startMs = Date.now();
  const verdict = await verify(
    { credential: secret, from: "raw-key", clientIp: setup.clientIp, required: null },
    {
      stores: new RequestStores(config, setup.continent),
      accountLimitDefault: setup.accountLimit,
      logger,
      waitUntil: (promise) => background.push(promise.catch(() => undefined)),
    },
  );
  samples.key.push(key);
  samples.startMs.push(startMs);
  samples.endMs.push(Date.now());
  samples.allowed.push(verdict.allow);
  inFlight -= 1;
}

async function run(): Promise<void> {
  // Warm, as an isolate that has served the key before: its row cached, the scripts loaded.
  for (const { secret } of setup.keys) await check(-1, secret);
  samples.key.length = samples.startMs.length = samples.endMs.length = samples.allowed.length = 0;
  await settleBackground();
  network.resetTraffic();
  post({ type: "ready" });
  const startAtMs = await started;
  const endAtMs = startAtMs + setup.durationMs;
  const runs = setup.keys.map(async ({ secret, ratePerSecond }, key) => {
    const everyMs = 1000 / ratePerSecond;
    // Each isolate starts at its own phase, so regions do not fire in lockstep.
    let nextMs = startAtMs + Math.random() * everyMs;
    const started: Promise<void>[] = [];
    while (nextMs < endAtMs) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextMs - Date.now())));
      if (inFlight < MAX_IN_FLIGHT) started.push(check(key, secret));
      nextMs += everyMs;
    }
    await Promise.all(started);
  });
  await Promise.all(runs);
  // Background work (grants, syncs, usage on the primary) is counted as the region's traffic.
  await settleBackground();
}

run().then(
  () => post({ type: "done", samples, traffic: network.traffic, warnings }),
  (error: unknown) =>
    post({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);

function post(message: FromIsolate): void {
  parentPort?.postMessage(message);
}

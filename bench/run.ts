/**
 * `npm run bench`: starts the local stack, measures, prints a table, writes bench/results.json.
 * `npm run bench -- --write-docs` also puts the tables into docs/PERFORMANCE.md (method: that file).
 *
 * Never part of `npm test`, no thresholds: it reports. Everything it sends goes to 127.0.0.1, and
 * every loop in it is bounded in count and time; a watchdog ends the run if it overruns.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { createLocalStack, type LocalStack } from "../scripts/local/stack";
import { baseUrlsFor, startFakeProviders } from "../test/setup/fake-providers";
import { BenchClient } from "./client";
import { envelope, hotPath } from "./cpu";
import { compareLoad } from "./e2e";
import { measureFloor } from "./floor";
import { limiterAccuracy } from "./limiter";
import { workerdCpuMs } from "./process-cpu";
import { type BenchResults, renderMarkdown, replaceDocsBlock } from "./report";
import { measureRoundTrips, unknownKeysAtScale } from "./round-trips";
import { scanSpeed } from "./scan";
import { chooseStores } from "./stores";

const RESULTS_FILE = "bench/results.json";
const DOCS_FILE = "docs/PERFORMANCE.md";
const WATCHDOG_MS = 12 * 60_000;
const say = (line: string) => console.log(`[bench] ${line}`);

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch((e: unknown) => say(`cleanup: ${String(e)}`));
}

function wranglerVersion(): string {
  try {
    return (JSON.parse(readFileSync("node_modules/wrangler/package.json", "utf8")) as { version: string })
      .version;
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  const writeDocs = process.argv.includes("--write-docs");
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();

  say("hot-path CPU (Node WebCrypto) …");
  const hot = await hotPath();
  say("provider-key envelope seal/open …");
  const env = await envelope();
  say("deploy-check scan speed (10 MB project) …");
  const scan = scanSpeed();
  say(`scan: ${scan.megabytesPerSecond} MB/s`);

  const runId = `vk_bench_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const stores = await chooseStores(runId);
  say(`stores: ${stores.label.postgres}; ${stores.label.redis}`);
  const providers = await startFakeProviders();
  cleanups.push(() => providers.close());
  const secret = () => randomBytes(32).toString("base64");
  // The Worker logs `upstash_unavailable` when an Upstash call fails (500 ms deadline): its breaker
  // then skips Upstash for 5 s and the limit fails open (docs/DESIGN.md#failure-policy). Counted to explain the figures.
  let upstashTimeouts = 0;
  let phaseNumber = 0;
  /**
   * Each long phase gets a stack of its own — a fresh database, Redis database and `wrangler dev` —
   * because wrangler's proxy grows with the requests it has served (it stalled past 4 GB once).
   */
  async function inFreshStack<T>(
    phase: string,
    measure: (client: BenchClient, stack: LocalStack) => Promise<T>,
  ): Promise<T> {
    phaseNumber += 1;
    const phaseStores = await chooseStores(`${runId}_${phaseNumber}`);
    const sessionSecret = secret();
    const run = createLocalStack({
      postgres: phaseStores.postgres,
      redis: phaseStores.redis,
      output: "quiet",
      vars: {
        ENVIRONMENT: "production",
        SESSION_SECRET: sessionSecret,
        PROVIDER_KEYS_MASTER_KEYS: `1:${secret()}`,
        PROVIDER_BASE_URLS: JSON.stringify(baseUrlsFor(providers.url)),
        // Every bench key has one owner: the account limit is still asked on every request (same
        // commands), but set high enough never to refuse the load runs.
        ACCOUNT_RATE_LIMIT: "1000000",
      },
      onOutput: (line) => {
        if (line.includes('"event":"upstash_unavailable"')) upstashTimeouts++;
      },
      log: (line) => say(line),
    });
    cleanups.push(() => run.stop());
    say(`${phase}: starting a fresh stack (wrangler dev) …`);
    try {
      const stack = await run.start();
      say(`${phase}: Worker at ${stack.url}`);
      try {
        return await measure(new BenchClient(stack, sessionSecret), stack);
      } catch (error) {
        console.error(
          `[bench] wrangler's last lines:\n${stack.recentOutput().split("\n").slice(-20).join("\n")}`,
        );
        throw error;
      }
    } finally {
      await run.stop();
    }
  }
  const providerRequests = async () =>
    ((await (await fetch(`${providers.url}/__fake/requests`)).json()) as unknown[]).length;

  const { roundTrips, unknownKeys } = await inFreshStack("round trips", async (client) => {
    say("round trips per request …");
    const roundTrips = await measureRoundTrips(client, providerRequests);
    say("distinct unknown keys from many addresses …");
    const unknownKeys = await unknownKeysAtScale(client, providerRequests);
    return { roundTrips, unknownKeys };
  });
  const load = await inFreshStack("load", (client, stack) => {
    say("end to end with autocannon …");
    return compareLoad(client, {
      connections: 10,
      durationSeconds: 10,
      repetitions: 3,
      warmupSeconds: 3,
      upstashTimeouts: () => upstashTimeouts,
      workerdCpuMs: () => workerdCpuMs(stack.processGroup),
      log: say,
    });
  });
  say("the floor: a bare Worker with and without one fetch …");
  const floor = await measureFloor({ connections: 10, durationSeconds: 10, repetitions: 3 });
  say(
    `floor: CPU ratio ${floor.ratios.workerdCpu?.toFixed(2)}, req/s ratio ${floor.ratios.requestsPerSecond.toFixed(2)}`,
  );
  const limiter = await inFreshStack("limiter accuracy", (client) =>
    limiterAccuracy(client, () => upstashTimeouts),
  );

  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? "?",
      node: process.versions.node,
      wrangler: wranglerVersion(),
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    stores: stores.label,
    roundTrips,
    unknownKeys,
    hotPath: hot,
    envelope: env,
    scan,
    load,
    floor,
    limiter,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown(results);
  console.log(`\n${markdown}\n`);
  say(`wrote ${RESULTS_FILE}`);
  if (writeDocs) {
    writeFileSync(DOCS_FILE, replaceDocsBlock(readFileSync(DOCS_FILE, "utf8"), markdown));
    say(`updated ${DOCS_FILE}`);
  }
}

const watchdog = setTimeout(() => {
  say(`gave up after ${WATCHDOG_MS / 60_000} minutes`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}
main()
  .then(async () => {
    await cleanUp();
    clearTimeout(watchdog);
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    console.error(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanUp();
    process.exit(1);
  });

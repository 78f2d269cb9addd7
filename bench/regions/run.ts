/**
 * `npm run bench:regions`: the key check as several isolates per region against the local stores
 * with simulated round trips (docs/SCALING.md#the-simulator), once per design in
 * scenarios.json, then one table. Bounded: each design runs `durationMs` of load.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import { percentile } from "../stats";
import {
  addTraffic,
  admittedAfter,
  admittedTimes,
  checks,
  DOLLARS_PER_COMMAND,
  latencies,
  maxInRollingWindow,
  WINDOW_MS,
} from "./metrics";
import { type Link, Network, type Traffic } from "./network";
import type { Design, FromIsolate, IsolateSetup, Samples, StoreEndpoint, ToIsolate } from "./protocol";
import { type DesignResult, type RegionRow, table } from "./report";
import { openStores, type StoresHandle } from "./stores-thread";
import { checkConfig, continentOf, keyCheckOf } from "./topology";
import { Writer } from "./writer";

interface Scenario {
  regions: { name: string; isolates: number }[];
  rttMs: number[][];
  durationMs: number;
  keys: { name: string; limit: number; ratePerIsolate: number; revokeAtMs?: number }[];
  cut: { region: number; fromMs: number; toMs: number };
  accountLimit: number;
  designs: Design[];
}

/** BENCH_REGIONS_SCENARIO: another scenario file (e.g. a short one while changing the simulator). */
const scenarioFile = process.env.BENCH_REGIONS_SCENARIO ?? new URL("./scenarios.json", import.meta.url);
const scenario = JSON.parse(readFileSync(scenarioFile, "utf8")) as Scenario;
const say = (line: string) => console.error(`[bench:regions] ${line}`);
const REVOKE_ATTEMPTS = 5;
/** After its load, a design's isolates and events get this long to finish, or the run fails. */
const SETTLE_MS = 120_000;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not finished within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
const sleepUntil = (atMs: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - Date.now())));

/**
 * Each design's callers (TEST-NET-3): the failed-auth limiter keeps a window per address in the
 * stores all designs share, and (b)'s limiter keeps it as a hash where the others keep a number —
 * one address for all would make a later design's failed-auth count fail (WRONGTYPE) and open its
 * breaker.
 */
const CLIENT_IP_OF: Record<Design, string> = {
  "single-primary": "203.0.113.7",
  "multi-region": "203.0.113.8",
  leased: "203.0.113.9",
};

function rtt(from: number, to: number): number {
  return scenario.rttMs[from]?.[to] ?? Number.NaN;
}

function endpoint(stores: StoresHandle, region: number): StoreEndpoint {
  const server = stores.upstash[region];
  if (!server) throw new Error(`no Upstash server for region ${region}`);
  return server;
}

/** The Redis databases a design uses, per region: index = the database's region. */
function databasesOf(design: Design, stores: StoresHandle): number[] {
  return design === "single-primary" ? [0] : stores.upstash.map((_, region) => region);
}

function linksFrom(region: number, design: Design, stores: StoresHandle): Link[] {
  return [
    ...databasesOf(design, stores).map((db) => ({
      origin: endpoint(stores, db).url,
      rttMs: rtt(region, db),
      kind: "upstash" as const,
    })),
    { origin: stores.neonUrl, rttMs: rtt(region, 0), kind: "neon" as const },
  ];
}

interface IsolateResult {
  region: number;
  samples: Samples;
  traffic: Traffic;
  warnings: Record<string, number>;
}

async function runDesign(design: Design, stores: StoresHandle): Promise<DesignResult> {
  const databases = databasesOf(design, stores);
  const keyCheck = keyCheckOf(
    design,
    scenario.regions.map((r) => r.name),
    stores.upstash,
  );
  const writerNetwork = new Network(linksFrom(0, design, stores));
  writerNetwork.install();
  // Leased: the Worker's writer, which copies every marker to the regions itself; multi-region:
  // the bench's fan-out to every region's database.
  const writer = new Writer(
    checkConfig({
      databaseUrl: stores.databaseUrl,
      neonFetchEndpoint: stores.neonSqlEndpoint,
      redis: endpoint(stores, 0),
      accountRateLimit: scenario.accountLimit,
      keyCheck,
    }),
    design === "multi-region" ? databases.map((db) => endpoint(stores, db)) : [],
  );
  const ownerId = `bench-regions-${design}-${randomBytes(4).toString("hex")}`;
  const keys: { id: string; secret: string }[] = [];
  for (const key of scenario.keys) keys.push(await writer.createKey(ownerId, key.name, key.limit));

  const primaryOrigins = [endpoint(stores, 0).url, stores.neonUrl];
  const isolates: ReturnType<typeof startIsolate>[] = [];
  for (const [region, { isolates: count }] of scenario.regions.entries()) {
    for (let n = 0; n < count; n++) {
      const setup: IsolateSetup = {
        design,
        region,
        links: linksFrom(region, design, stores),
        primaryOrigins,
        databaseUrl: stores.databaseUrl,
        neonFetchEndpoint: stores.neonSqlEndpoint,
        // Multi-region checks in the region's own database (the limiter's hook adds the others);
        // leased reaches its region's through `keyCheck`, the primary through `redis`.
        redis: endpoint(stores, design === "multi-region" ? region : 0),
        otherRedis:
          design === "multi-region"
            ? databases.filter((db) => db !== region).map((db) => endpoint(stores, db))
            : [],
        keyCheck,
        continent: continentOf(region),
        clientIp: CLIENT_IP_OF[design],
        keys: keys.map((key, i) => ({
          secret: key.secret,
          ratePerSecond: scenario.keys[i]?.ratePerIsolate ?? 0,
        })),
        accountLimit: scenario.accountLimit,
        durationMs: scenario.durationMs,
      };
      isolates.push(startIsolate(region, setup));
    }
  }
  // An isolate that fails while loading ends the run instead of leaving it waiting.
  await withDeadline(
    Promise.all(isolates.map((i) => Promise.race([i.ready, i.done.then(() => undefined)]))),
    SETTLE_MS,
  );
  const serverRequestsBefore = await stores.upstashRequests();
  // Load starts on a minute: the limiter's windows are minutes, and a first window that is only
  // partly loaded makes the sliding estimate of the next one admit up to 1.5 × L by itself.
  const startAtMs = (Math.floor(Date.now() / WINDOW_MS) + 1) * WINDOW_MS;
  for (const { worker } of isolates)
    worker.postMessage({ type: "start", atMs: startAtMs } satisfies ToIsolate);

  const revokedAt = scenario.keys.map(() => Number.NaN);
  let refusedRevocations = 0;
  const events = [
    ...scenario.keys.flatMap((key, i) =>
      key.revokeAtMs === undefined
        ? []
        : [
            (async () => {
              await sleepUntil(startAtMs + (key.revokeAtMs as number));
              // A refused change (503: nothing changed) is repeated, as its caller would; never
              // revoked, the key's column shows "–".
              for (let attempt = 1; attempt <= REVOKE_ATTEMPTS; attempt++) {
                if (await writer.revoke(ownerId, keys[i]?.id as string)) {
                  revokedAt[i] = Date.now();
                  break;
                }
                refusedRevocations += 1;
              }
            })(),
          ],
    ),
    (async () => {
      const { region, fromMs, toMs } = scenario.cut;
      const cut = (isCut: boolean) => {
        for (const i of isolates)
          if (i.region === region) i.worker.postMessage({ type: "cut", cut: isCut } satisfies ToIsolate);
        if (databases.includes(region)) writerNetwork.setCut([endpoint(stores, region).url], isCut);
      };
      await sleepUntil(startAtMs + fromMs);
      cut(true);
      await sleepUntil(startAtMs + toMs);
      cut(false);
    })(),
  ];
  // Handled now, reported below: a failed event must not end the process before the stores are dropped.
  const eventsDone = Promise.all(events);
  eventsDone.catch(() => undefined);
  let results: IsolateResult[];
  try {
    results = await withDeadline(Promise.all(isolates.map((i) => i.done)), scenario.durationMs + SETTLE_MS);
    await withDeadline(eventsDone, SETTLE_MS);
  } finally {
    await Promise.all(isolates.map((i) => i.worker.terminate()));
  }
  const serverCount = (await stores.upstashRequests()) - serverRequestsBefore;
  return {
    ...summarise(design, results, revokedAt, serverCount, startAtMs),
    refusedRevocations,
    writerWarnings: writer.warnings,
  };
}

function startIsolate(region: number, setup: IsolateSetup) {
  const worker = new Worker(new URL("./isolate.ts", import.meta.url), { workerData: setup });
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const done = new Promise<IsolateResult>((resolve, reject) => {
    worker.on("message", (message: FromIsolate) => {
      if (message.type === "ready") ready();
      else if (message.type === "failed") reject(new Error(`isolate in region ${region}: ${message.error}`));
      else {
        resolve({ region, samples: message.samples, traffic: message.traffic, warnings: message.warnings });
        void worker.terminate();
      }
    });
    worker.once("error", reject);
  });
  return { region, worker, ready: readyPromise, done };
}

function summarise(
  design: Design,
  results: IsolateResult[],
  revokedAt: number[],
  serverCount: number,
  startAtMs: number,
): Omit<DesignResult, "refusedRevocations" | "writerWarnings"> {
  const warnings: Record<string, number> = {};
  for (const r of results) {
    for (const [event, n] of Object.entries(r.warnings)) warnings[event] = (warnings[event] ?? 0) + n;
  }
  const all = results.map((r) => r.samples);
  const sharedKey = scenario.keys.findIndex((key) => key.revokeAtMs === undefined);
  const sharedLimit = scenario.keys[sharedKey]?.limit ?? Number.NaN;
  const shared = admittedTimes(all, sharedKey);
  const regions: RegionRow[] = scenario.regions.map(({ name }, region) => {
    const own = results.filter((r) => r.region === region);
    const samples = own.map((r) => r.samples);
    const traffic = addTraffic(own.map((r) => r.traffic));
    const count = checks(samples);
    return {
      region: name,
      checks: count,
      p50Ms: percentile(latencies(samples), 50),
      p99Ms: percentile(latencies(samples), 99),
      upstashRequestsPerCheck: traffic.upstashRequests / count,
      commandsPerCheck: traffic.upstashCommands / count,
      neonRequestsPer1kChecks: (1000 * traffic.neonRequests) / count,
      admittedAfterRevokeMs: scenario.keys.flatMap((key, i) =>
        key.revokeAtMs === undefined
          ? []
          : [admittedAfter(admittedTimes(samples, i, "startMs"), revokedAt[i] as number)],
      ),
      dollarsPerMillion: (traffic.upstashCommands / count) * 1e6 * DOLLARS_PER_COMMAND,
    };
  });
  return {
    design,
    regions,
    limitMaxPercent: (100 * maxInRollingWindow(shared)) / sharedLimit,
    limitMaxBeforeCutPercent:
      (100 * maxInRollingWindow(shared, startAtMs + scenario.cut.fromMs)) / sharedLimit,
    serverRequests: serverCount,
    isolateRequests: addTraffic(results.map((r) => r.traffic)).upstashRequests,
    warnings,
  };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  say(
    `${startedAt.toISOString()}: ${cpus().length} CPUs, load average ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}`,
  );
  const stores = await openStores(scenario.regions.length);
  const results: DesignResult[] = [];
  try {
    for (const design of scenario.designs) {
      say(`design ${design}: ${scenario.durationMs / 1000} s of load`);
      results.push(await runDesign(design, stores));
    }
  } finally {
    await stores.stop();
  }
  const revocations = scenario.keys.filter((key) => key.revokeAtMs !== undefined).map((key) => key.name);
  console.log(table(results, revocations));
  console.log();
  for (const r of results) {
    console.log(
      `${r.design}: Upstash requests counted by the servers ${r.serverRequests}, by the isolates ${r.isolateRequests}; ` +
        `revocations refused (503) and repeated: ${r.refusedRevocations}; isolate warnings: ${JSON.stringify(r.warnings)}; ` +
        `writer warnings: ${JSON.stringify(r.writerWarnings)}`,
    );
  }
  const cut = scenario.cut;
  console.log(
    `Run ${startedAt.toISOString()}, ${cpus().length} CPUs, load average ${loadAtStart.map((l) => l.toFixed(2)).join(" ")} → ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}; ` +
      `${scenario.regions[cut.region]?.name} cut off from the primary ${cut.fromMs / 1000}–${cut.toMs / 1000} s.`,
  );
}

await main();

/**
 * End to end: authenticated `GET /v1/key` against an unauthenticated 404 (`GET /nothing`: the same
 * middleware, no I/O), same connections and duration, repetitions alternating; the ratios are
 * paired per repetition. Keys are spread so that none nears its 1000/min limit.
 */
import type { BenchClient, CreatedKey } from "./client";
import { type LoadJob, type LoadSummary, runLoad } from "./load";
import type { LoadComparison, MedianLoad } from "./report";
import { median } from "./stats";

export interface E2eOptions {
  connections: number;
  durationSeconds: number;
  repetitions: number;
  warmupSeconds: number;
  /** `upstash_unavailable` warnings the Worker has logged so far. */
  upstashTimeouts: () => number;
  /** CPU ms workerd has used so far (undefined where it cannot be read). */
  workerdCpuMs: () => number | undefined;
  log: (line: string) => void;
}

/** One autocannon run plus what the local Upstash server saw meanwhile. */
export interface MeasuredRun extends LoadSummary {
  /** Upstash requests served per response: 1.0 when every key check asked Upstash. */
  upstashPerRequest: number;
  upstashTimeouts: number;
  /** workerd's CPU (user + system) per response, ms; null where it cannot be read. */
  workerdCpuMsPerRequest: number | null;
}

const AUTH_PATH = "/v1/key";
const BASELINE_PATH = "/nothing";
const KEY_LIMIT = 1000;
/** Per key per minute, well under KEY_LIMIT even with the previous window's weight added. */
const PER_KEY_BUDGET = 450;
const KEYS_PER_USER = 50; // under the per-user key-write limit (60/min) and the active-key cap (100)

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return out;
}

async function createLoadKeys(client: BenchClient, count: number): Promise<CreatedKey[]> {
  const users = Math.ceil(count / KEYS_PER_USER);
  const sessions = await Promise.all(
    Array.from({ length: users }, (_, u) => client.session(`bench-load-${u}`)),
  );
  const keys = await inBatches(
    Array.from({ length: count }, (_, i) => i),
    4,
    (i) => client.createKey(sessions[Math.floor(i / KEYS_PER_USER)] as string, `load-${i}`, KEY_LIMIT),
  );
  // Gates closed for the whole run: the once-a-minute last_used_at write is not what is measured.
  await inBatches(keys, 8, (k) => client.closeLastUsedGate(k.id, 900));
  // Warm: each key read once from Neon into the isolate's cache.
  await inBatches(keys, 8, async (k) => {
    const status = await client.callV1(`Bearer ${k.key}`);
    if (status !== 200) throw new Error(`warming a load key: ${status}`);
  });
  return keys;
}

function medianLoad(runs: MeasuredRun[], okStatus: string): MedianLoad {
  return {
    upstashPerRequest: median(runs.map((r) => r.upstashPerRequest)),
    workerdCpuMsPerRequest: runs.every((r) => r.workerdCpuMsPerRequest !== null)
      ? median(runs.map((r) => r.workerdCpuMsPerRequest as number))
      : null,
    upstashTimeouts: runs.reduce((sum, r) => sum + r.upstashTimeouts, 0),
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
    non2xx: runs.reduce(
      (sum, r) =>
        sum +
        r.errors +
        Object.entries(r.statuses).reduce((s, [code, n]) => s + (code === okStatus ? 0 : n), 0),
      0,
    ),
  };
}

export async function compareLoad(client: BenchClient, options: E2eOptions): Promise<LoadComparison> {
  const base = { connections: options.connections };
  const baselineJob = (seconds: number): LoadJob => ({
    ...base,
    url: `${client.url}${BASELINE_PATH}`,
    durationSeconds: seconds,
    authorizations: [],
  });

  // The baseline's rate bounds the authenticated one: it sizes the key pool.
  const probe = await runLoad(baselineJob(options.warmupSeconds));
  const authSeconds = options.warmupSeconds + options.repetitions * options.durationSeconds;
  const expected = probe.requestsPerSecond * authSeconds;
  const keyCount = Math.min(400, Math.max(10, Math.ceil(expected / PER_KEY_BUDGET)));
  options.log(
    `baseline probe: ${Math.round(probe.requestsPerSecond)} req/s → ${keyCount} keys at ${KEY_LIMIT}/min for /v1/key`,
  );
  const keys = await createLoadKeys(client, keyCount);
  const authJob = (seconds: number): LoadJob => ({
    ...base,
    url: `${client.url}${AUTH_PATH}`,
    durationSeconds: seconds,
    authorizations: keys.map((k) => `Bearer ${k.key}`),
  });
  await runLoad(authJob(options.warmupSeconds));

  const measured = async (job: LoadJob): Promise<MeasuredRun> => {
    const upstashBefore = await client.requestTotal("upstash");
    const timeoutsBefore = options.upstashTimeouts();
    const cpuBefore = options.workerdCpuMs();
    const run = await runLoad(job);
    const cpuAfter = options.workerdCpuMs();
    const upstash = (await client.requestTotal("upstash")) - upstashBefore;
    return {
      ...run,
      upstashPerRequest: run.requests ? upstash / run.requests : 0,
      upstashTimeouts: options.upstashTimeouts() - timeoutsBefore,
      workerdCpuMsPerRequest:
        cpuBefore === undefined || cpuAfter === undefined || !run.requests
          ? null
          : (cpuAfter - cpuBefore) / run.requests,
    };
  };
  const authRuns: MeasuredRun[] = [];
  const baselineRuns: MeasuredRun[] = [];
  for (let rep = 0; rep < options.repetitions; rep++) {
    // Alternate which goes first, so neither always runs on the warmer (or noisier) side.
    const order = rep % 2 === 0 ? (["auth", "baseline"] as const) : (["baseline", "auth"] as const);
    for (const which of order) {
      const run = await measured(
        which === "auth" ? authJob(options.durationSeconds) : baselineJob(options.durationSeconds),
      );
      (which === "auth" ? authRuns : baselineRuns).push(run);
      options.log(
        `  ${which === "auth" ? AUTH_PATH : BASELINE_PATH} #${rep + 1}: ${Math.round(run.requestsPerSecond)} req/s, ` +
          `p50 ${run.latencyP50Ms} ms, p99 ${run.latencyP99Ms} ms, statuses ${JSON.stringify(run.statuses)}, ` +
          `Upstash/request ${run.upstashPerRequest.toFixed(2)}, Upstash timeouts ${run.upstashTimeouts}`,
      );
    }
  }
  const paired = (pick: (r: LoadSummary) => number) =>
    median(authRuns.map((run, i) => pick(run) / pick(baselineRuns[i] as LoadSummary)));
  return {
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    repetitions: options.repetitions,
    keys: keyCount,
    authenticated: { path: AUTH_PATH, runs: authRuns, median: medianLoad(authRuns, "200") },
    baseline: { path: BASELINE_PATH, runs: baselineRuns, median: medianLoad(baselineRuns, "404") },
    ratios: {
      workerdCpu: authRuns.every((r) => r.workerdCpuMsPerRequest !== null)
        ? median(
            authRuns.map(
              (run, i) =>
                (run.workerdCpuMsPerRequest as number) /
                ((baselineRuns[i] as MeasuredRun).workerdCpuMsPerRequest as number),
            ),
          )
        : null,
      requestsPerSecond: paired((r) => r.requestsPerSecond),
      latencyP50: paired((r) => r.latencyP50Ms),
      latencyP99: paired((r) => r.latencyP99Ms),
    },
  };
}

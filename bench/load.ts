/**
 * End-to-end load with autocannon, in a child process: the bench process hosts the local Neon and
 * Upstash servers, and a load generator on their event loop would slow them down.
 *
 * Parent: `runLoad(job)` forks this file (through tsx) and gets one summary back.
 * Child: runs one bounded autocannon run (connections × duration) and sends the summary.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

export interface LoadJob {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Authorization values used in turn, one per request (empty: no Authorization header). */
  authorizations: string[];
}

export interface LoadSummary {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

const CHILD_FLAG = "--bench-load-child";

async function runChild(job: LoadJob): Promise<LoadSummary> {
  let next = 0;
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: "GET",
        setupRequest: (request) => {
          if (job.authorizations.length === 0) return request;
          const authorization = job.authorizations[next++ % job.authorizations.length] as string;
          return { ...request, headers: { ...request.headers, authorization } };
        },
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0;
  return {
    requests: result.requests.total,
    durationSeconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.mean,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Runs one job in a child process; killed if it has not answered well after its duration. */
export function runLoad(job: LoadJob): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let settled = false;
    const finish = (error: Error | null, summary?: LoadSummary) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill("SIGKILL");
      if (error) reject(error);
      else resolve(summary as LoadSummary);
    };
    const timer = setTimeout(
      () => finish(new Error("load generator did not finish in time")),
      (job.durationSeconds + 60) * 1000,
    );
    child.once("message", (message) => finish(null, message as LoadSummary));
    child.once("error", (error) => finish(error));
    child.once("exit", (code) => finish(new Error(`load generator exited (${code}) without a result`)));
    child.send(job);
  });
}

if (process.argv.includes(CHILD_FLAG)) {
  process.once("message", (job) => {
    runChild(job as LoadJob).then(
      (summary) => process.send?.(summary, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

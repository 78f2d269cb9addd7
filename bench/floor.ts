/**
 * The floor of a key check on workerd: a bare Worker (no Hono, no libraries) that answers either at
 * once, or after ONE fetch to a loopback server answering like Upstash's pipeline endpoint — under
 * the same `wrangler dev` and the same load as the real routes. Its CPU and req/s ratios are what
 * one Upstash round trip costs by itself; the key check cannot go below them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../scripts/local/ports";
import { runLoad } from "./load";
import { workerdCpuMs } from "./process-cpu";
import { median } from "./stats";

const WORKER = `export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname !== "/fetch") {
      return Response.json({ code: "not_found" }, { status: 404 });
    }
    const answer = await fetch(env.TARGET, {
      method: "POST",
      headers: { Authorization: "Bearer floor", "Content-Type": "application/json" },
      body: JSON.stringify([["evalsha", "0123456789abcdef0123456789abcdef01234567", "2", "a", "b", "60"]]),
      signal: AbortSignal.timeout(500),
    });
    return Response.json({ result: await answer.json() });
  },
};
`;

/** What a pipeline of two commands answers, about the size of the key check's. */
const PIPELINE_ANSWER = JSON.stringify([{ result: [58, 60] }, { result: ["1", 0, 1990] }]);

export interface FloorRun {
  route: "/fetch" | "/nothing";
  requestsPerSecond: number;
  workerdCpuMsPerRequest: number | null;
}

export interface FloorFigure {
  runs: FloorRun[];
  /** Paired per repetition, medians: one fetch ÷ none. */
  ratios: { workerdCpu: number | null; requestsPerSecond: number };
}

async function untilReady(url: string, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error("the floor Worker did not start");
}

export async function measureFloor(options: {
  connections: number;
  durationSeconds: number;
  repetitions: number;
}): Promise<FloorFigure> {
  const upstash = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(PIPELINE_ANSWER);
    });
  });
  await new Promise<void>((resolve) => upstash.listen(0, "127.0.0.1", resolve));
  const target = `http://127.0.0.1:${(upstash.address() as AddressInfo).port}/pipeline`;
  const dir = mkdtempSync(join(tmpdir(), "vk-floor-"));
  writeFileSync(join(dir, "worker.js"), WORKER);
  writeFileSync(
    join(dir, "wrangler.toml"),
    `name = "vk-floor"\nmain = "worker.js"\ncompatibility_date = "2026-11-01"\n`,
  );
  const port = await freePort(0);
  let wrangler: ChildProcess | undefined;
  try {
    wrangler = spawn(
      "wrangler",
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(await freePort(0)),
      ].concat(["--var", `TARGET:${target}`]),
      {
        cwd: dir,
        stdio: "ignore",
        detached: true,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      },
    );
    const url = `http://127.0.0.1:${port}`;
    await untilReady(url, Date.now() + 60_000);
    const group = wrangler.pid;
    const measure = async (route: FloorRun["route"], seconds: number): Promise<FloorRun> => {
      const before = workerdCpuMs(group);
      const run = await runLoad({
        url: `${url}${route}`,
        connections: options.connections,
        durationSeconds: seconds,
        authorizations: [],
      });
      const after = workerdCpuMs(group);
      return {
        route,
        requestsPerSecond: run.requestsPerSecond,
        workerdCpuMsPerRequest:
          before === undefined || after === undefined || !run.requests
            ? null
            : (after - before) / run.requests,
      };
    };
    await measure("/fetch", 3);
    await measure("/nothing", 3);
    const runs: FloorRun[] = [];
    for (let rep = 0; rep < options.repetitions; rep++) {
      const order = rep % 2 === 0 ? (["/fetch", "/nothing"] as const) : (["/nothing", "/fetch"] as const);
      for (const route of order) runs.push(await measure(route, options.durationSeconds));
    }
    const paired = (pick: (r: FloorRun) => number | null) => {
      const fetched = runs.filter((r) => r.route === "/fetch");
      const none = runs.filter((r) => r.route === "/nothing");
      const ratios = fetched.map((r, i) => {
        const [a, b] = [pick(r), pick(none[i] as FloorRun)];
        return a === null || b === null ? null : a / b;
      });
      return ratios.every((x) => x !== null) ? median(ratios as number[]) : null;
    };
    return {
      runs,
      ratios: {
        workerdCpu: paired((r) => r.workerdCpuMsPerRequest),
        requestsPerSecond: paired((r) => r.requestsPerSecond) ?? 0,
      },
    };
  } finally {
    if (wrangler?.pid) {
      try {
        process.kill(-wrangler.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    upstash.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

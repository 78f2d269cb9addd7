/**
 * `npm run bench:profile`: where a warm key check spends the Worker's CPU. Starts a production-mode
 * stack (unminified, so the profile names functions), warms a few keys, then records a V8 CPU
 * profile of the Worker's isolate through the DevTools inspector while autocannon drives
 * `GET /v1/key`, and again for the no-I/O 404. Prints self time by function and by package.
 *
 * Not part of `npm test`; loopback only; bounded (two 8 s loads, a watchdog at 5 minutes).
 */
import { randomBytes } from "node:crypto";
import { createLocalStack } from "../scripts/local/stack";
import { BenchClient } from "./client";
import { runLoad } from "./load";
import { chooseStores } from "./stores";

const LOAD_SECONDS = 8;
const CONNECTIONS = 10;
const KEYS = 10;
const SAMPLING_INTERVAL_US = 100;
const say = (line: string) => console.log(`[profile] ${line}`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

/** One DevTools session on the Worker's isolate. */
async function inspect(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const target = targets[0];
  if (!target) throw new Error("no inspector target");
  // The inspector proxy wants a loopback Origin; Node's WebSocket (undici) takes headers here.
  const init = { headers: { Origin: "http://127.0.0.1" } } as unknown as string[];
  const socket = new WebSocket(target.webSocketDebuggerUrl, init);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id === undefined) return;
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
}

/** Where a frame's code comes from: a package of node_modules, our src/, or the runtime. */
function origin(frame: ProfileNode["callFrame"]): string {
  const modules = frame.url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (modules?.[1]) return modules[1];
  if (frame.url.includes("/src/")) return `src/${frame.url.split("/src/")[1]?.split("/")[0] ?? ""}`;
  return frame.url ? "worker (other)" : `(${frame.functionName || "native"})`;
}

function summarise(profile: CpuProfile, requests: number) {
  const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const usPerHit = (profile.endTime - profile.startTime) / Math.max(1, totalHits);
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === "(idle)") continue;
    busy += hits;
    const frame = node.callFrame;
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    byOrigin.set(origin(frame), (byOrigin.get(origin(frame)) ?? 0) + hits);
  }
  // Inclusive: each sample counts once for every distinct function on its (synchronous) stack.
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const inclusive = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName.startsWith("(")) continue;
    const names = new Set<string>();
    for (let n: ProfileNode | undefined = node; n; n = parent.get(n.id)) {
      if (n.callFrame.functionName && !n.callFrame.functionName.startsWith("("))
        names.add(n.callFrame.functionName);
    }
    for (const name of names) inclusive.set(name, (inclusive.get(name) ?? 0) + hits);
  }
  const perRequest = (hits: number) => ((hits * usPerHit) / 1000 / requests).toFixed(3);
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, hits]) =>
          `  ${perRequest(hits).padStart(7)} ms  ${((100 * hits) / busy).toFixed(1).padStart(5)} %  ${name}`,
      );
  return [
    `  isolate busy: ${perRequest(busy)} ms per request (${requests} requests)`,
    "  by origin:",
    ...top(byOrigin, 12),
    "  by function (self time):",
    ...top(byFunction, 25),
    "  by function (inclusive, synchronous stacks):",
    ...top(inclusive, 30),
  ].join("\n");
}

async function main(): Promise<void> {
  const sessionSecret = randomBytes(32).toString("base64");
  const runId = `vk_profile_${Date.now().toString(36)}`;
  const stores = await chooseStores(runId);
  const run = createLocalStack({
    postgres: stores.postgres,
    redis: stores.redis,
    output: "quiet",
    wranglerArgs: ["--minify=false"],
    vars: {
      ENVIRONMENT: "production",
      SESSION_SECRET: sessionSecret,
      PROVIDER_KEYS_MASTER_KEYS: `1:${randomBytes(32).toString("base64")}`,
      ACCOUNT_RATE_LIMIT: "1000000",
    },
    log: say,
  });
  const watchdog = setTimeout(() => void run.stop().finally(() => process.exit(1)), 5 * 60_000);
  try {
    const stack = await run.start();
    const client = new BenchClient(stack, sessionSecret);
    const session = await client.session("profile");
    const keys = [];
    for (let i = 0; i < KEYS; i++) keys.push(await client.createKey(session, `profile-${i}`, 1000));
    for (const key of keys) {
      await client.closeLastUsedGate(key.id, 900);
      await client.callV1(`Bearer ${key.key}`);
    }
    const inspector = await inspect(stack.inspectorPort as number);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    for (const [label, path, authorizations] of [
      ["GET /v1/key (warm key)", "/v1/key", keys.map((k) => `Bearer ${k.key}`)],
      ["GET /nothing (404, no I/O)", "/nothing", []],
    ] as const) {
      await inspector.send("Profiler.start");
      const load = await runLoad({
        url: `${stack.url}${path}`,
        connections: CONNECTIONS,
        durationSeconds: LOAD_SECONDS,
        authorizations: [...authorizations],
      });
      const { profile } = (await inspector.send("Profiler.stop")) as { profile: CpuProfile };
      say(`${label}: ${Math.round(load.requestsPerSecond)} req/s, statuses ${JSON.stringify(load.statuses)}`);
      console.log(summarise(profile, load.requests));
    }
    inspector.close();
  } finally {
    clearTimeout(watchdog);
    await run.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

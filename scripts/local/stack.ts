/**
 * The whole service on this machine: Postgres and Redis (existing loopback servers or private ones),
 * the local Neon and Upstash protocol servers in front of them, the migrations, and `wrangler dev`.
 * Used by `npm start` (scripts/start.ts) and `npm run bench` (bench/run.ts). Never reads DATABASE_URL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { migrateDatabase } from "../db/migrate";
import { startNeonServer } from "./neon-server";
import { freePort } from "./ports";
import { hasRedisServer, startRedisServer } from "./redis-process";
import {
  assertLoopbackUrl,
  claimRedisDatabase,
  createDatabase,
  dropDatabase,
  releaseRedisDatabase,
  withDatabase,
} from "./stores";
import { startUpstashServer } from "./upstash-server";

/** Where Postgres comes from. */
export type PostgresSource =
  /** An existing loopback database, created if missing (npm start's LOCAL_DATABASE_URL). */
  | { kind: "url"; url: string }
  /** A new database on this loopback server (admin URL), dropped on stop. */
  | { kind: "fresh"; adminUrl: string; name: string }
  /** An embedded PGlite: data in `dataDir`, or in memory without one. Serves one connection at a time. */
  | { kind: "pglite"; dataDir?: string };

/** Where Redis comes from. */
export type RedisSource =
  /** An existing loopback Redis, used as is (npm start's LOCAL_REDIS_URL). */
  | { kind: "url"; url: string }
  /** An empty logical database (1–15) of this loopback Redis, claimed for the run and emptied on stop. */
  | { kind: "claim"; url: string; runId: string }
  /** A private `redis-server` from PATH, nothing kept on disk. */
  | { kind: "redis-server" };

export interface LocalStackOptions {
  postgres: PostgresSource;
  redis: RedisSource;
  /** Preferred ports (a free one is taken when busy); 0 = any free port. */
  port?: number;
  neonPort?: number;
  upstashPort?: number;
  /** Extra `--var`s for the Worker; they override .dev.vars (e.g. ENVIRONMENT, PROVIDER_BASE_URLS). */
  vars?: Record<string, string>;
  /** More `wrangler dev` arguments (e.g. `--minify=false` for a readable CPU profile). */
  wranglerArgs?: string[];
  /** Write `.dev.vars` with fresh local secrets when it does not exist (npm start). */
  ensureDevVars?: boolean;
  /**
   * `inherit`: wrangler shares this terminal (npm start: its output, its hotkeys, Ctrl-C).
   * `quiet`: wrangler runs in its own process group with its output kept in memory (last lines
   * available from `recentOutput()`), and `startLocalStack` waits until the Worker answers.
   */
  output?: "inherit" | "quiet";
  /** Quiet mode: every line wrangler prints (the Worker's logs included), as it arrives. */
  onOutput?: (line: string) => void;
  log?: (line: string) => void;
}

export interface LocalStack {
  /** The Worker, e.g. http://127.0.0.1:8787 */
  url: string;
  neonUrl: string;
  upstashUrl: string;
  upstashToken: string;
  databaseUrl: string;
  redisUrl: string;
  /** Resolves when wrangler exits (by itself or through stop()). */
  exited: Promise<void>;
  /** Wrangler's process group (quiet mode: it runs in a group of its own), for CPU accounting. */
  processGroup: number | undefined;
  /** The DevTools inspector port of the Worker (quiet mode only), e.g. for a CPU profile. */
  inspectorPort: number | undefined;
  /** The last lines wrangler printed (quiet mode only). */
  recentOutput(): string;
  stop(): Promise<void>;
}

export interface LocalStackRun {
  start(): Promise<LocalStack>;
  /** Stops whatever has been started so far; safe to call at any time, also during start(). */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;
const WRANGLER_EXIT_GRACE_MS = 8_000;
const OUTPUT_LINES_KEPT = 200;

/** npm start's choice: LOCAL_DATABASE_URL / LOCAL_REDIS_URL, else PGlite in .data/ and a private redis-server. */
export function storesFromEnvironment(env: NodeJS.ProcessEnv = process.env): {
  postgres: PostgresSource;
  redis: RedisSource;
} {
  return {
    postgres: env.LOCAL_DATABASE_URL
      ? { kind: "url", url: env.LOCAL_DATABASE_URL }
      : { kind: "pglite", dataDir: ".data/pglite" },
    redis: env.LOCAL_REDIS_URL ? { kind: "url", url: env.LOCAL_REDIS_URL } : { kind: "redis-server" },
  };
}

class StoppedError extends Error {
  constructor() {
    super("the local stack was stopped while starting");
  }
}

/** `.dev.vars` holds the local secrets; created once with fresh values, never overwritten. */
function ensureDevVarsFile(say: (line: string) => void): void {
  if (existsSync(".dev.vars")) return;
  copyFileSync(".dev.vars.example", ".dev.vars");
  const fresh = readFileSync(".dev.vars", "utf8")
    .replace(/^SESSION_SECRET=.*$/m, `SESSION_SECRET=${randomBytes(32).toString("base64")}`)
    .replace(
      /^PROVIDER_KEYS_MASTER_KEYS=.*$/m,
      `PROVIDER_KEYS_MASTER_KEYS=1:${randomBytes(32).toString("base64")}`,
    );
  writeFileSync(".dev.vars", fresh, { mode: 0o600 });
  say("wrote .dev.vars with fresh local secrets (ENVIRONMENT=development)");
}

export function createLocalStack(options: LocalStackOptions): LocalStackRun {
  const say = options.log ?? ((line: string) => console.log(`[vulk-keys] ${line}`));
  const quiet = options.output === "quiet";
  /** Started pieces, stopped in reverse order. */
  const stops: (() => Promise<unknown>)[] = [];
  let stopping: Promise<void> | undefined;
  const output: string[] = [];

  /** Registers how to undo a step; after stop() the step is undone at once and start() gives up. */
  async function own(stop: () => Promise<unknown>): Promise<void> {
    if (stopping) {
      await stop().catch(() => undefined);
      throw new StoppedError();
    }
    stops.push(stop);
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      while (stops.length > 0) {
        const next = stops.pop();
        await next?.().catch((error: unknown) =>
          say(`stop: ${error instanceof Error ? error.message : error}`),
        );
      }
    })();
    return stopping;
  }

  async function postgres(): Promise<{ url: string; maxConnections: number }> {
    const source = options.postgres;
    if (source.kind === "url") {
      const url = assertLoopbackUrl(source.url, "LOCAL_DATABASE_URL");
      const name = url.pathname.slice(1) || "vulk_keys";
      await createDatabase(withDatabase(source.url, "postgres"), name, { ifMissing: true });
      return { url: withDatabase(source.url, name), maxConnections: 10 };
    }
    if (source.kind === "fresh") {
      assertLoopbackUrl(source.adminUrl, "Postgres admin URL");
      await createDatabase(source.adminUrl, source.name);
      await own(() => dropDatabase(source.adminUrl, source.name));
      return { url: withDatabase(source.adminUrl, source.name), maxConnections: 10 };
    }
    const { PGlite } = await import("@electric-sql/pglite");
    const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
    if (source.dataDir) mkdirSync(dirname(source.dataDir), { recursive: true });
    const db = source.dataDir ? await PGlite.create(source.dataDir) : await PGlite.create();
    const port = await freePort(54329);
    const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1" });
    await server.start();
    await own(async () => {
      await server.stop();
      await db.close();
    });
    say(
      `PGlite (embedded Postgres) on 127.0.0.1:${port}, ${source.dataDir ? `data in ${source.dataDir}` : "in memory"}`,
    );
    // PGlite serves one connection at a time.
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, maxConnections: 1 };
  }

  async function redis(): Promise<string> {
    const source = options.redis;
    if (source.kind === "url") return assertLoopbackUrl(source.url, "LOCAL_REDIS_URL").toString();
    if (source.kind === "claim") {
      const url = await claimRedisDatabase(source.url, source.runId);
      await own(() => releaseRedisDatabase(url, source.runId));
      return url;
    }
    if (!hasRedisServer()) {
      throw new Error(
        "No Redis: set LOCAL_REDIS_URL=redis://127.0.0.1:6379 or install redis-server " +
          "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).",
      );
    }
    const server = await startRedisServer(await freePort(6380));
    await own(() => server.stop());
    say(`redis-server (no persistence) at ${server.url}`);
    return server.url;
  }

  function spawnWrangler(port: number, vars: Record<string, string>, inspectorPort: number | undefined) {
    // --test-scheduled: `npm run keys:rewrap` triggers the Cron Trigger through /__scheduled.
    const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--test-scheduled"];
    if (inspectorPort !== undefined) args.push("--inspector-port", String(inspectorPort));
    args.push(...(options.wranglerArgs ?? []));
    args.push(...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]));
    // Local runs stay on this machine: no telemetry, no download of the request.cf object.
    const env = {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
    };
    if (!quiet) return spawn("wrangler", args, { stdio: "inherit", env });
    const child = spawn("wrangler", args, { stdio: ["ignore", "pipe", "pipe"], env, detached: true });
    const lines = (stream: NodeJS.ReadableStream | null) => {
      let partial = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) {
          if (!line.trim()) continue;
          output.push(line);
          options.onOutput?.(line);
        }
        if (output.length > OUTPUT_LINES_KEPT) output.splice(0, output.length - OUTPUT_LINES_KEPT);
      });
    };
    lines(child.stdout);
    lines(child.stderr);
    return child;
  }

  /** SIGINT (wrangler tears workerd down), then SIGKILL after a grace period. */
  async function stopWrangler(child: ChildProcess, exited: Promise<void>): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const signal = (name: NodeJS.Signals) => {
      try {
        // Quiet mode: the whole process group (wrangler and the workerd it started).
        if (quiet && child.pid) process.kill(-child.pid, name);
        else child.kill(name);
      } catch {
        // already gone
      }
    };
    signal("SIGINT");
    const timer = new Promise<"timeout">((resolve) =>
      setTimeout(() => resolve("timeout"), WRANGLER_EXIT_GRACE_MS).unref(),
    );
    if ((await Promise.race([exited, timer])) === "timeout") {
      signal("SIGKILL");
      await exited;
    }
  }

  async function waitUntilReady(url: string, exited: Promise<void>): Promise<void> {
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`wrangler dev exited before it was ready:\n${output.slice(-30).join("\n")}`);
      if (stopping) throw new StoppedError();
      try {
        await fetch(`${url}/__local-stack-ready`, { signal: AbortSignal.timeout(2000) });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw new Error(`wrangler dev did not answer within ${READY_TIMEOUT_MS / 1000} s`);
  }

  async function start(): Promise<LocalStack> {
    try {
      const database = await postgres();
      const redisUrl = await redis();
      await migrateDatabase(database.url);
      say("migrations applied");

      const neon = await startNeonServer({
        port: await freePort(options.neonPort ?? 0),
        maxConnectionsPerDatabase: database.maxConnections,
      });
      await own(() => neon.close());
      const upstashToken = randomBytes(16).toString("hex");
      const upstash = await startUpstashServer({
        redisUrl,
        token: upstashToken,
        port: await freePort(options.upstashPort ?? 0),
      });
      await own(() => upstash.close());
      say(`local Neon at ${neon.url}, local Upstash at ${upstash.url}`);

      if (options.ensureDevVars) ensureDevVarsFile(say);
      const port = await freePort(options.port ?? 0);
      // Connection settings change every run, so they go on the command line (they override .dev.vars).
      const vars = {
        DATABASE_URL: database.url,
        NEON_FETCH_ENDPOINT: neon.sqlEndpoint,
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstashToken,
        ...options.vars,
      };
      // A second wrangler (e.g. a bench next to npm start) must not fight over the default inspector port.
      const inspectorPort = quiet ? await freePort(0) : undefined;
      const wrangler = spawnWrangler(port, vars, inspectorPort);
      const exited = new Promise<void>((resolve) => {
        wrangler.once("exit", () => resolve());
        wrangler.once("error", (error) => {
          say(`wrangler: ${error.message}`); // e.g. not installed: run npm ci
          resolve();
        });
      });
      await own(() => stopWrangler(wrangler, exited));
      const url = `http://127.0.0.1:${port}`;
      if (quiet) await waitUntilReady(url, exited);
      return {
        url,
        neonUrl: neon.url,
        upstashUrl: upstash.url,
        upstashToken,
        databaseUrl: database.url,
        redisUrl,
        exited,
        processGroup: quiet ? wrangler.pid : undefined,
        inspectorPort,
        recentOutput: () => output.join("\n"),
        stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  }

  return { start, stop };
}

/** Starts the stack; on failure everything started so far is stopped again. */
export function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  return createLocalStack(options).start();
}

export function isStoppedWhileStarting(error: unknown): boolean {
  return error instanceof StoppedError;
}

/**
 * `npm start`: the whole service on this machine, in one command.
 * Postgres: LOCAL_DATABASE_URL, else an embedded PGlite (data under .data/). Redis: LOCAL_REDIS_URL,
 * else a private redis-server. In front of them the local Neon and Upstash protocol servers, then
 * migrations, then `wrangler dev`. Ctrl-C stops everything. Never reads DATABASE_URL.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { migrateDatabase } from "./db/migrate";
import { startNeonServer } from "./local/neon-server";
import { freePort } from "./local/ports";
import { hasRedisServer, startRedisServer } from "./local/redis-process";
import { assertLoopbackUrl, createDatabase, withDatabase } from "./local/stores";
import { startUpstashServer } from "./local/upstash-server";

const stops: (() => Promise<unknown>)[] = [];
const say = (line: string) => console.log(`[vulk-keys] ${line}`);

async function postgres(): Promise<{ url: string; maxConnections: number }> {
  const local = process.env.LOCAL_DATABASE_URL;
  if (local) {
    const url = assertLoopbackUrl(local, "LOCAL_DATABASE_URL");
    const name = url.pathname.slice(1) || "vulk_keys";
    await createDatabase(withDatabase(local, "postgres"), name, { ifMissing: true });
    return { url: withDatabase(local, name), maxConnections: 10 };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  mkdirSync(".data", { recursive: true });
  const db = await PGlite.create(".data/pglite");
  const port = await freePort(54329);
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1" });
  await server.start();
  stops.push(async () => {
    await server.stop();
    await db.close();
  });
  say(`PGlite (embedded Postgres) on 127.0.0.1:${port}, data in .data/pglite`);
  // PGlite serves one connection at a time.
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, maxConnections: 1 };
}

async function redis(): Promise<string> {
  const local = process.env.LOCAL_REDIS_URL;
  if (local) return assertLoopbackUrl(local, "LOCAL_REDIS_URL").toString();
  if (!hasRedisServer()) {
    throw new Error(
      "No Redis: set LOCAL_REDIS_URL=redis://127.0.0.1:6379 or install redis-server " +
        "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).",
    );
  }
  const server = await startRedisServer(await freePort(6380));
  stops.push(() => server.stop());
  say(`redis-server (no persistence) at ${server.url}`);
  return server.url;
}

/** `.dev.vars` holds the local secrets; created once with fresh values, never overwritten. */
function ensureDevVars(): void {
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

async function main(): Promise<void> {
  const database = await postgres();
  const redisUrl = await redis();
  await migrateDatabase(database.url);
  say("migrations applied");

  const neon = await startNeonServer({
    port: await freePort(4444),
    maxConnectionsPerDatabase: database.maxConnections,
  });
  stops.push(() => neon.close());
  const upstashToken = randomBytes(16).toString("hex");
  const upstash = await startUpstashServer({ redisUrl, token: upstashToken, port: await freePort(8079) });
  stops.push(() => upstash.close());
  say(`local Neon at ${neon.url}, local Upstash at ${upstash.url}`);

  ensureDevVars();
  const port = await freePort(Number(process.env.PORT) || 8787);
  // Connection settings change every run, so they go on the command line (they override .dev.vars).
  const vars = {
    DATABASE_URL: database.url,
    NEON_FETCH_ENDPOINT: neon.sqlEndpoint,
    NEON_WS_PROXY: neon.wsProxy,
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: upstashToken,
  };
  const wrangler = spawn(
    "wrangler",
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    // No telemetry: local runs stay on this machine.
    { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  stops.unshift(async () => {
    if (wrangler.exitCode === null) wrangler.kill("SIGINT");
  });
  say(`vulk-keys at http://127.0.0.1:${port}  (health: /health, API reference: /docs)`);
  await new Promise((resolve) => wrangler.once("exit", resolve));
  await shutdown();
}

let stopping = false;
async function shutdown(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const stop of stops) await stop().catch(() => undefined);
  }
  process.exit(code);
}

process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
main().catch(async (error) => {
  console.error(`[vulk-keys] ${error instanceof Error ? error.message : error}`);
  await shutdown(1);
});

/**
 * `npm start`: the whole service on this machine, in one command.
 * Postgres: LOCAL_DATABASE_URL, else an embedded PGlite (data under .data/). Redis: LOCAL_REDIS_URL,
 * else a private redis-server. In front of them the local Neon and Upstash protocol servers, then
 * migrations, then `wrangler dev` (scripts/local/stack.ts). Ctrl-C stops everything. Never reads
 * DATABASE_URL.
 */
import { createLocalStack, isStoppedWhileStarting, storesFromEnvironment } from "./local/stack";

const say = (line: string) => console.log(`[vulk-keys] ${line}`);

const stack = createLocalStack({
  ...storesFromEnvironment(),
  port: Number(process.env.PORT) || 8787,
  neonPort: 4444,
  upstashPort: 8079,
  ensureDevVars: true,
  output: "inherit",
  log: say,
});

async function main(): Promise<void> {
  const running = await stack.start();
  say(`vulk-keys at ${running.url}  (health: /health, API reference: /docs)`);
  await running.exited;
  await shutdown();
}

let stopping = false;
async function shutdown(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stack.stop();
  }
  process.exit(code);
}

process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
main().catch(async (error) => {
  if (isStoppedWhileStarting(error)) return; // Ctrl-C during start-up: shutdown() is exiting
  console.error(`[vulk-keys] ${error instanceof Error ? error.message : error}`);
  await shutdown(1);
});

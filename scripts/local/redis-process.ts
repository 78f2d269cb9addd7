import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { connectRedis } from "./redis";

export interface RedisProcess {
  url: string;
  stop(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A private `redis-server` on 127.0.0.1 that keeps nothing on disk. */
export async function startRedisServer(port: number): Promise<RedisProcess> {
  const child: ChildProcess = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await (await connectRedis(url, { connectTimeoutMs: 200 })).close();
      return {
        url,
        stop: async () => {
          if (child.exitCode !== null) return;
          child.kill("SIGTERM");
          await new Promise((resolve) => child.once("exit", resolve));
        },
      };
    } catch {
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not start on port ${port}`);
}

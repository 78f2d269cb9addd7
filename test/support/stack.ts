import { inject } from "vitest";
import "./test-stack";

/** The local stack of this run (see test/setup/global-setup.ts). */
export const stack = inject("stack");

type Server = "neon" | "upstash";
const baseUrl = (server: Server) => (server === "neon" ? stack.neonUrl : stack.upstashUrl);

/** HTTP requests a local protocol server has served, per endpoint. */
export async function serverCounts(server: Server): Promise<Record<string, number>> {
  const response = await fetch(`${baseUrl(server)}/__local/counts`);
  return (await response.json()) as Record<string, number>;
}

/** Total HTTP requests a local server has served (every counter but Upstash's `commands`). */
export async function requestTotal(server: Server): Promise<number> {
  const counts = await serverCounts(server);
  return Object.entries(counts)
    .filter(([name]) => name !== "commands")
    .reduce((sum, [, n]) => sum + n, 0);
}

/** Runs `action` and returns how many requests each server served meanwhile, and the Redis commands. */
export async function countRequests<T>(
  action: () => Promise<T>,
): Promise<{ result: T; neon: number; upstash: number; commands: number }> {
  const commands = async () => (await serverCounts("upstash")).commands ?? 0;
  const [neonBefore, upstashBefore, commandsBefore] = await Promise.all([
    requestTotal("neon"),
    requestTotal("upstash"),
    commands(),
  ]);
  const result = await action();
  const [neonAfter, upstashAfter, commandsAfter] = await Promise.all([
    requestTotal("neon"),
    requestTotal("upstash"),
    commands(),
  ]);
  return {
    result,
    neon: neonAfter - neonBefore,
    upstash: upstashAfter - upstashBefore,
    commands: commandsAfter - commandsBefore,
  };
}

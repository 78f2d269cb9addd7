import { inject } from "vitest";
import "./test-stack";

/** The local stack of this run (see test/setup/global-setup.ts). */
export const stack = inject("stack");

/**
 * Whether this project's Worker runs the leased topology, as its config says (vitest.config.ts
 * provides it beside the binding). From `inject`, not the Worker's env: the node tests import
 * this module too; test/support/topology.ts checks the two agree.
 */
export const leasedRun = inject("keyCheckTopology") === "leased";

/**
 * A local protocol server, or a group of them. `upstash` is "Upstash" as the Worker sees it: the
 * primary, and in the leased topology the region's server too (counted summed, faulted together);
 * `upstash-primary` and `upstash-region` name one of the two.
 */
export type Server = "neon" | "upstash" | "upstash-primary" | "upstash-region";

/** The region's Upstash server (URL and token); only a leased run has one. */
export function regionUpstash(): { url: string; token: string } {
  const { regionUpstashUrl: url, regionUpstashToken: token } = stack;
  if (!url || !token)
    throw new Error("this run has no region Upstash server (only the worker-leased project does)");
  return { url, token };
}

/** The base URL of each server `server` names, in this run's topology. */
export function baseUrls(server: Server): string[] {
  switch (server) {
    case "neon":
      return [stack.neonUrl];
    case "upstash-primary":
      return [stack.upstashUrl];
    case "upstash-region":
      return [regionUpstash().url];
    case "upstash":
      return leasedRun ? [stack.upstashUrl, regionUpstash().url] : [stack.upstashUrl];
  }
}

/** HTTP requests the server(s) have served, per endpoint (summed over a group). */
export async function serverCounts(server: Server): Promise<Record<string, number>> {
  const all = await Promise.all(
    baseUrls(server).map(async (base) => {
      const response = await fetch(`${base}/__local/counts`);
      return (await response.json()) as Record<string, number>;
    }),
  );
  const sum: Record<string, number> = {};
  for (const counts of all) for (const [name, n] of Object.entries(counts)) sum[name] = (sum[name] ?? 0) + n;
  return sum;
}

/** Total HTTP requests a local server (or group) has served (every counter but Upstash's `commands`). */
export async function requestTotal(server: Server): Promise<number> {
  return totalOf(await serverCounts(server));
}

function totalOf(counts: Record<string, number>): number {
  return Object.entries(counts)
    .filter(([name]) => name !== "commands")
    .reduce((sum, [, n]) => sum + n, 0);
}

export interface RequestCounts<T> {
  result: T;
  neon: number;
  /** Upstash requests: the primary's, plus the region's in the leased topology. */
  upstash: number;
  /** Redis commands on the same server(s) as `upstash`. */
  commands: number;
  /** The breakdown of `upstash`: the primary's requests… */
  upstashPrimary: number;
  /** …and the region's (always 0 in the single-primary topology). */
  upstashRegion: number;
  /** The region's share of `commands` (0 in the single-primary topology). */
  regionCommands: number;
}

/** Runs `action` and returns how many requests each server served meanwhile, and the Redis commands. */
export async function countRequests<T>(action: () => Promise<T>): Promise<RequestCounts<T>> {
  const snapshot = () =>
    Promise.all([
      requestTotal("neon"),
      serverCounts("upstash-primary"),
      leasedRun ? serverCounts("upstash-region") : Promise.resolve<Record<string, number>>({}),
    ]);
  const [neonBefore, primaryBefore, regionBefore] = await snapshot();
  const result = await action();
  const [neonAfter, primaryAfter, regionAfter] = await snapshot();
  const upstashPrimary = totalOf(primaryAfter) - totalOf(primaryBefore);
  const upstashRegion = totalOf(regionAfter) - totalOf(regionBefore);
  const primaryCommands = (primaryAfter.commands ?? 0) - (primaryBefore.commands ?? 0);
  const regionCommands = (regionAfter.commands ?? 0) - (regionBefore.commands ?? 0);
  return {
    result,
    neon: neonAfter - neonBefore,
    upstash: upstashPrimary + upstashRegion,
    commands: primaryCommands + regionCommands,
    upstashPrimary,
    upstashRegion,
    regionCommands,
  };
}

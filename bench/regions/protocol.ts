/** What the simulator's main thread and its isolates (worker threads) tell each other. */
import type { KeyCheckTopology } from "../../src/config/regions";
import type { Link, Traffic } from "./network";

export type Design = "single-primary" | "multi-region" | "leased";

export interface StoreEndpoint {
  url: string;
  token: string;
}

export interface IsolateSetup {
  design: Design;
  region: number;
  links: Link[];
  /** Origins this region loses while it is cut off from the primary. */
  primaryOrigins: string[];
  databaseUrl: string;
  neonFetchEndpoint: string;
  /**
   * The configuration's Redis: the primary (single-primary, leased), or under multi-region the
   * region's own database, where its key check runs.
   */
  redis: StoreEndpoint;
  /** multi-region: the other regions' databases, which the limiter also writes. */
  otherRedis: StoreEndpoint[];
  /** The configuration's `keyCheck` (bench/regions/topology.ts). */
  keyCheck: KeyCheckTopology;
  /** Every request's `cf.continent`: under leased it picks the region (src/config/regions.ts). */
  continent: string;
  /**
   * The caller's address: one per design, since the designs share the stores and the failed-auth
   * limiter's windows are per address (a revoked key's checks count there).
   */
  clientIp: string;
  keys: { secret: string; ratePerSecond: number }[];
  accountLimit: number;
  durationMs: number;
}

export type ToIsolate =
  /** Every isolate starts its load at the same moment (epoch ms). */
  { type: "start"; atMs: number } | { type: "cut"; cut: boolean };

/** One key check: parallel arrays, one entry per check. */
export interface Samples {
  key: number[];
  startMs: number[];
  endMs: number[];
  allowed: boolean[];
}

export type FromIsolate =
  /** The verifier is loaded: the isolate can start. */
  | { type: "ready" }
  | { type: "done"; samples: Samples; traffic: Traffic; warnings: Record<string, number> }
  | { type: "failed"; error: string };

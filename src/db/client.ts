import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle, type NeonHttpDatabase } from "drizzle-orm/neon-http";
import type { Config } from "../config/env";
import * as schema from "./schema";

/** Failure policy (docs/DESIGN.md#failure-policy): a Neon call that takes longer than this fails (→ 503). */
export const NEON_TIMEOUT_MS = 3000;

export type Database = NeonHttpDatabase<typeof schema>;

// Every Neon HTTP call gets its own deadline (a fresh signal per call, never one shared signal).
neonConfig.fetchFunction = (input: RequestInfo | URL, init?: RequestInit) =>
  fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(NEON_TIMEOUT_MS) });

/** neonConfig is module-level: only local setups point it at the local protocol server. */
function configureNeon(config: Config): void {
  if (config.neonFetchEndpoint) neonConfig.fetchEndpoint = config.neonFetchEndpoint;
}

/** A Drizzle database over Neon's HTTP driver: one round trip per query or `db.batch`. */
export function createDb(config: Config): Database {
  configureNeon(config);
  return drizzle({ client: neon(config.databaseUrl), schema });
}

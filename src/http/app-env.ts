import type { Config, Env } from "../config/env";
import type { Logger } from "../observability/logger";
import type { KeyFacts } from "../verify/decision";
import type { RateReport } from "../verify/rate-headers";
import type { RequestStores } from "./stores";

/** Per-request values set by middleware. */
export interface AppVariables {
  requestId: string;
  config: Config;
  logger: Logger;
  /** The request's database and Redis, created on first use. */
  stores: RequestStores;
  /** Set by the session middleware on `/api/*`. */
  session: Session;
  /** Set by the key check on `/v1/*`: the verified key and the limiter's state for the headers. */
  apiKey: KeyFacts;
  rate: RateReport;
}

export interface Session {
  userId: string;
  /** Cookie-authenticated writes are subject to the Origin check (CSRF). */
  via: "bearer" | "cookie";
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };

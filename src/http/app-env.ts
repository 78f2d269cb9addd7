import type { Config, Env } from "../config/env";
import type { Logger } from "../observability/logger";

/** Per-request values set by middleware. */
export interface AppVariables {
  requestId: string;
  config: Config;
  logger: Logger;
  /** Set by the session middleware on `/api/*`. */
  session: Session;
}

export interface Session {
  userId: string;
  /** Cookie-authenticated writes are subject to the Origin check (CSRF). */
  via: "bearer" | "cookie";
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };

/**
 * The one contract of every RPC method (docs/DESIGN.md#rpc): a result object, `ok: false` with a
 * `code` from the closed error-code set on failure — never a throw for bad input, configuration or
 * an unavailable store (a thrown error loses its `code` at the binding). `providerFetch` answers a
 * problem+json Response instead.
 */
import { type Config, type Env, loadConfigOrLog } from "../config/env";
import { isDatabaseUnavailable } from "../db/errors";
import { ApiError, ERRORS, type ErrorCode } from "../http/errors";
import { RequestStores } from "../http/stores";
import { isStorableText } from "../lib/text";
import { createLogger, type Logger } from "../observability/logger";
import { isRedisUnavailable } from "../redis/client";

export interface RpcFailure {
  ok: false;
  code: ErrorCode;
  /** Safe to show: never a secret, never a configuration value. */
  detail: string;
}

export function rpcFailure(code: ErrorCode, detail: string = ERRORS[code].title): RpcFailure {
  return { ok: false, code, detail };
}

export interface RpcContext {
  config: Config;
  logger: Logger;
  stores: RequestStores;
  /** The optional `EVENTS_QUEUE` binding (docs/DESIGN.md#owner-events). */
  events: Queue | undefined;
  waitUntil: (promise: Promise<unknown>) => void;
}

export interface RpcCall {
  env: Env;
  method: string;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** A thrown error as a failure: its code when it has one, else 503/500 with the cause only in the log. */
export function failureOf(error: unknown, logger: Logger): RpcFailure {
  if (error instanceof ApiError) {
    if (error.status >= 500)
      logger.log("error", "rpc_failed", { code: error.code, error: error.options.internal ?? error });
    return rpcFailure(error.code, error.detail);
  }
  logger.log("error", "rpc_failed", { error });
  if (isDatabaseUnavailable(error) || isRedisUnavailable(error))
    return rpcFailure("service_unavailable", "The service is not available right now.");
  return rpcFailure("internal_error", "An internal error occurred.");
}

/**
 * Runs one RPC method with checked config, a logger and the call's stores. A configuration problem
 * is logged by name and answered as `service_unavailable`; an unexpected error as `internal_error`.
 */
export async function runRpc<T>(
  call: RpcCall,
  body: (ctx: RpcContext) => Promise<T | RpcFailure>,
): Promise<T | RpcFailure> {
  const logger = createLogger({ rpc: call.method, requestId: crypto.randomUUID() });
  const config = loadConfigOrLog(call.env, logger);
  if (!config) return rpcFailure("service_unavailable", "vulk-keys is not available right now.");
  try {
    const stores = new RequestStores(config);
    return await body({ config, logger, stores, events: call.env.EVENTS_QUEUE, waitUntil: call.waitUntil });
  } catch (error) {
    return failureOf(error, logger);
  }
}

/**
 * A non-empty string argument Postgres can store (no U+0000, no unpaired surrogate), or undefined
 * (the caller answers `invalid_request`).
 */
export function textArgument(value: unknown, maxLength = 256): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= maxLength && isStorableText(value)
    ? value
    : undefined;
}

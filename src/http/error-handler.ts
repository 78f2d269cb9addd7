import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { isDatabaseUnavailable } from "../db/errors";
import { isRedisUnavailable } from "../redis/client";
import { allowedMethods, type RegisteredRoute } from "./allowed-methods";
import type { AppEnv } from "./app-env";
import { ApiError, denial, type ErrorCode, problemResponse } from "./errors";

/** Hono's own exceptions mapped onto our codes (e.g. malformed JSON from the validator). */
const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "invalid_request",
  401: "invalid_session",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  503: "service_unavailable",
};

/** The single error path: everything leaves as problem+json; a 500 says nothing about its cause. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const apiError = toApiError(error);
  const logger = c.get("logger");
  if (apiError.status >= 500 || apiError.options.internal) {
    logger?.log("error", "request_failed", {
      code: apiError.code,
      error: apiError.options.internal ?? error,
    });
  }
  return problemResponse(apiError, requestIdOf(c));
};

/**
 * No route answered: 405 with `Allow` when the path exists under other methods, else 404.
 * `routes` is read on each miss, so it sees every registration.
 */
export function notFoundHandler(routes: () => readonly RegisteredRoute[]): NotFoundHandler<AppEnv> {
  return (c) => {
    const allow = allowedMethods(routes(), c.req.path).join(", ");
    const problem = allow
      ? denial("method_not_allowed", `${c.req.method} is not allowed here; use ${allow}.`, {
          headers: { Allow: allow },
        })
      : denial("not_found", "No such resource.");
    return problemResponse(problem, requestIdOf(c));
  };
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) return new ApiError(code, error.status === 400 ? error.message || undefined : undefined);
  }
  if (isDatabaseUnavailable(error) || isRedisUnavailable(error)) {
    return new ApiError("service_unavailable", "The service is not available right now.", {
      internal: error,
    });
  }
  return new ApiError("internal_error", "An internal error occurred.", { internal: error });
}

function requestIdOf(c: Context<AppEnv>): string {
  return c.get("requestId") ?? crypto.randomUUID();
}

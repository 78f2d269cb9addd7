import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type Config, loadConfigOrLog } from "../config/env";
import { createLogger, type Logger } from "../observability/logger";
import type { AppEnv } from "./app-env";
import { ApiError } from "./errors";
import { RequestStores } from "./stores";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Request body caps: dashboard calls are small; `/v1` carries project files (kept under Neon's 10 MiB request cap). */
export const BODY_LIMITS = { api: 64 * 1024, v1: 8 * 1024 * 1024, scanningReport: 1024 * 1024 } as const;

/**
 * Request id, logger, checked config and the request's stores. The access log is one line per
 * request in development only: in production Workers Logs records every invocation (URL, status,
 * duration, outcome) and it was the largest cost of a warm key check. Warnings, errors and
 * security events are logged where they happen, in every environment; so is every 5xx here.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header("X-Request-Id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const logger = createLogger({ requestId });
    c.set("requestId", requestId);
    c.set("logger", logger);
    const started = Date.now();
    let development = false;
    try {
      const config = loadConfigOrFail(c.env, logger);
      development = config.environment === "development";
      c.set("config", config);
      const cf = c.req.raw.cf as { continent?: string } | undefined;
      c.set("stores", new RequestStores(config, cf?.continent));
      await next();
    } finally {
      c.header("X-Request-Id", requestId);
      if (development || c.res.status >= 500) {
        logger.log(c.res.status >= 500 ? "error" : "info", "request", {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Date.now() - started,
        });
      }
    }
  };
}

function loadConfigOrFail(env: AppEnv["Bindings"], logger: Logger): Config {
  const config = loadConfigOrLog(env, logger);
  if (!config) throw new ApiError("service_unavailable", "The service is not available right now.");
  return config;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** JSON only (415) and at most `maxBytes` (413, counted as the body streams in) (docs/DESIGN.md#api-conventions). */
export function jsonBodyRules(maxBytes: number): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError("payload_too_large", `Request bodies are limited to ${maxBytes} bytes.`);
    },
  });
  return async (c, next) => {
    if (!BODY_METHODS.has(c.req.method)) return next();
    const type = c.req.header("Content-Type");
    const hasBody = type !== undefined || Number(c.req.header("Content-Length") ?? 0) > 0;
    if (hasBody && !isJsonType(type)) {
      throw new ApiError("unsupported_media_type", "Request bodies must be application/json.");
    }
    return limit(c, next);
  };
}

export function isJsonType(type: string | undefined): boolean {
  if (!type) return false;
  const essence = type.split(";")[0]?.trim().toLowerCase() ?? "";
  return essence === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(essence);
}

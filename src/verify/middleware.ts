import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { Permission } from "../domain/permissions";
import type { AppEnv } from "../http/app-env";
import { denial, problemResponse } from "../http/errors";
import { FAILED_AUTH_LIMIT } from "./failed-auth";
import { EXPOSED_RATE_HEADERS, rateLimitHeaders, unaskedRate } from "./rate-headers";
import { verify } from "./verifier";

/**
 * Around every `/v1` request: CORS for any origin without credentials (a preflight needs no key),
 * and the rate-limit headers of docs/DESIGN.md#rate-limit-headers on every answer, 200 through 500.
 */
export function v1Surface(): MiddlewareHandler<AppEnv> {
  const corsHandler = cors({
    origin: "*",
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
    // Allow: a 405 says which methods the path takes, and a browser caller may read it.
    exposeHeaders: [...EXPOSED_RATE_HEADERS, "X-Request-Id", "Allow"],
    maxAge: 600,
  });
  return async (c, next) => {
    const preflight = await corsHandler(c, next);
    if (preflight) return preflight;
    const now = Date.now();
    // A request that never reached the key check (e.g. an unknown route) reports the client policy.
    const rate = c.get("rate") ?? [unaskedRate("ip", FAILED_AUTH_LIMIT, now)];
    for (const [name, value] of Object.entries(rateLimitHeaders(rate, now, c.res.status === 429))) {
      c.res.headers.set(name, value);
    }
  };
}

/** The key check (docs/DESIGN.md#the-key-check) for one route: 401 → 429 → 403, else the verified key in `c.var.apiKey`. */
export function requireKey(permission: Permission | null): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const verdict = await verify(
      {
        credential: c.req.header("Authorization") ?? null,
        from: "authorization-header",
        clientIp: c.req.header("CF-Connecting-IP") ?? "",
        required: permission,
      },
      {
        stores: c.get("stores"),
        logger: c.get("logger"),
        waitUntil: (p) => c.executionCtx.waitUntil(p),
        accountLimitDefault: c.get("config").accountRateLimit,
      },
    );
    c.set("rate", verdict.rate);
    // Answered, not thrown: an expected denial needs no Error (and no stack) to become problem+json.
    if (!verdict.allow) return problemResponse(denial(verdict.code, verdict.detail), c.get("requestId"));
    c.set("apiKey", verdict.key);
    await next();
  };
}

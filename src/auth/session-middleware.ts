import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { cors } from "hono/cors";
import type { AppEnv, Session } from "../http/app-env";
import { parseBearer } from "../http/bearer";
import { ApiError } from "../http/errors";
import { KEY_PREFIX } from "../keys/token";
import { verifySession } from "./session";

export const SESSION_COOKIE = "vulk_session";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Credentialed CORS for the dashboard's origin only (docs/DESIGN.md#sessions-and-browser-access). */
export function dashboardCors(): MiddlewareHandler<AppEnv> {
  return (c, next) =>
    cors({
      origin: (origin) => (origin === c.get("config").dashboardOrigin ? origin : null),
      credentials: true,
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "Retry-After"],
      maxAge: 600,
    })(c, next);
}

/** The session from `Authorization: Bearer` or the `vulk_session` cookie; CSRF rule for cookie writes. */
export function requireSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // The cookie counts only when there is no Authorization header at all.
    const authorization = parseBearer(c.req.header("Authorization"));
    const bearer = authorization.kind === "token" ? authorization.token : undefined;
    if (authorization.kind === "malformed")
      throw new ApiError("invalid_session", "Send the session as Authorization: Bearer <token>.");
    const token = bearer ?? getCookie(c, SESSION_COOKIE);
    if (!token) throw new ApiError("invalid_session", "Sign in: a session is required.");
    if (token.startsWith(KEY_PREFIX)) {
      throw new ApiError("invalid_session", "An API key is not a session; use /v1 with API keys.");
    }
    const result = await verifySession(token, c.get("config").sessionSecrets);
    if (!result.ok) {
      c.get("logger").log("info", "session_rejected", { reason: result.reason });
      throw new ApiError("invalid_session", "The session is invalid or expired.");
    }
    const session: Session = { userId: result.userId, via: bearer ? "bearer" : "cookie" };
    if (session.via === "cookie" && !SAFE_METHODS.has(c.req.method))
      assertTrustedOrigin(c.req.raw, c.get("config").dashboardOrigin);
    c.set("session", session);
    await next();
  };
}

/**
 * Cookie-authenticated writes must come from this origin or the dashboard's. "This origin" is the
 * request URL's — never read from a `Host` header, which a caller can set to anything.
 */
function assertTrustedOrigin(request: Request, dashboardOrigin: string): void {
  const origin = request.headers.get("Origin");
  const self = new URL(request.url).origin;
  if (origin !== self && origin !== dashboardOrigin) {
    throw new ApiError("csrf_rejected", "Cross-site request rejected: the Origin is not trusted.");
  }
}

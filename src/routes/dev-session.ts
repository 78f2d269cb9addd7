import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { setCookie } from "hono/cookie";
import { isSessionSubject, SESSION_MAX_TTL_SECONDS, signSession } from "../auth/session";
import { SESSION_COOKIE } from "../auth/session-middleware";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** Development sign-in exists only in development, and only for a request to a loopback host (docs/DESIGN.md#sessions-and-browser-access). */
export function devSignInAllowed(config: { environment: string }, requestUrl: string): boolean {
  return config.environment === "development" && LOOPBACK_HOST.test(new URL(requestUrl).hostname);
}

/** The user id a session may carry: the very rule `verifySession` applies to `sub`. */
const sessionSubject = z
  .string()
  .trim()
  .refine(isSessionSubject, "must be 1–256 characters, without control characters or lone surrogates");

const route = createRoute({
  method: "post",
  path: "/dev/session",
  tags: ["Development"],
  summary: "Development only, on a loopback host: a session for any user id",
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: z.object({ userId: sessionSubject }).strict() },
      },
    },
  },
  responses: {
    200: {
      description: "Signed in",
      content: { "application/json": { schema: z.object({ token: z.string() }) } },
    },
  },
});

/** Exists only when ENVIRONMENT=development AND the request is for a loopback host (docs/DESIGN.md#sessions-and-browser-access). */
export function registerDevSession(app: OpenAPIHono<AppEnv>): void {
  app.use("/dev/*", async (c, next) => {
    if (!devSignInAllowed(c.get("config"), c.req.url)) throw new ApiError("not_found", "No such resource.");
    await next();
  });
  app.openapi(route, async (c) => {
    const { userId } = c.req.valid("json");
    const [secret] = c.get("config").sessionSecrets as [string];
    const token = await signSession(userId, secret);
    setCookie(c, SESSION_COOKIE, token, {
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
      path: "/",
      maxAge: SESSION_MAX_TTL_SECONDS / 2,
    });
    c.header("Cache-Control", "no-store");
    return c.json({ token }, 200);
  });
}

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../../src/app";
import { signSession } from "../../src/auth/session";
import type { Env } from "../../src/config/env";

export const ORIGIN = "https://keys.vulk.test";

/** A request to the Worker under test, through its real fetch handler. */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(`${ORIGIN}${path}`, init);
}

/**
 * A request through the app's fetch handler with its own execution context, waiting for everything
 * handed to waitUntil (last-used writes, audit, refunds) — so what the test reads next is settled.
 * `overrides` replace bindings for this request only (another ENVIRONMENT, a Queue, a broken secret);
 * `undefined` removes one.
 */
export async function workerFetch(
  request: Request,
  overrides: { [Name in keyof Env]?: Env[Name] | undefined } = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A fresh user id per test, so tests never see each other's data. */
export const newUserId = () => `user_${crypto.randomUUID()}`;

export async function sessionToken(userId: string): Promise<string> {
  const [secret] = env.SESSION_SECRET.split(",") as [string];
  return signSession(userId, secret);
}

/** JSON request as a signed-in user (bearer session). */
export async function asUser(
  userId: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${await sessionToken(userId)}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return call(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `https://vulk.dev/docs/errors/${code}` });
  expect(body.requestId).toBe(response.headers.get("X-Request-Id"));
  return body;
}

import { env } from "cloudflare:workers";
import { Ratelimit } from "@upstash/ratelimit";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { type Env, loadConfig } from "../../src/config/env";
import { createDb } from "../../src/db/client";
import { createRedis } from "../../src/redis/client";
import { call, expectProblem, newUserId, ORIGIN, sessionToken, workerFetch } from "../support/http";
import { countRequests, stack } from "../support/stack";

describe("the local stack, from inside workerd", () => {
  it("a Drizzle query goes to Postgres in exactly one Neon request", async () => {
    const db = createDb(loadConfig(env as Env));
    const { result, neon, upstash } = await countRequests(() =>
      db.execute<{ db: string }>(sql`select current_database() as db`),
    );
    expect(result.rows[0]?.db).toBe(new URL(stack.databaseUrl).pathname.slice(1));
    expect({ neon, upstash }).toEqual({ neon: 1, upstash: 0 });
  });

  it("a sliding-window limit() is one Upstash request once its script is loaded, and admits exactly L", async () => {
    const prefix = `foundation:${crypto.randomUUID()}`;
    const limiter = () =>
      new Ratelimit({
        redis: createRedis(loadConfig(env as Env)),
        limiter: Ratelimit.slidingWindow(5, "60 s"),
        prefix,
        ephemeralCache: false,
      });
    await limiter().limit("warm-up"); // loads the script (EVALSHA → NOSCRIPT → EVAL the first time)
    const id = crypto.randomUUID();
    const { result, neon, upstash } = await countRequests(async () => {
      const verdicts = [];
      for (let i = 0; i < 7; i++) verdicts.push(await limiter().limit(id));
      return verdicts;
    });
    expect(result.map((v) => v.success)).toEqual([true, true, true, true, true, false, false]);
    expect(result.map((v) => v.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0]);
    expect(result[0]?.limit).toBe(5);
    expect({ neon, upstash }).toEqual({ neon: 0, upstash: 7 });
  });
});

describe("service routes", () => {
  it("GET /health reports both stores ok", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe("ok");
    expect(body.checks.postgres?.ok).toBe(true);
    expect(body.checks.redis?.ok).toBe(true);
  });

  it("GET /health answers 503 naming the store that failed", async () => {
    const response = await workerFetch(new Request(`${ORIGIN}/health`), {
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
    });
    const body = await expectProblem(response, 503, "service_unavailable");
    expect(body.detail).toBe("Unavailable: redis.");
    expect(body.checks).toMatchObject({ postgres: { ok: true }, redis: { ok: false } });
  });

  it("GET /openapi.json is an OpenAPI 3.1 document listing every registered route", async () => {
    const response = await call("/openapi.json");
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    /**
     * Routes that are not part of the API: the document itself, its HTML view, the Settings page and
     * its assets, and /dev/session, listed only where it answers (development, loopback).
     */
    const UNDOCUMENTED = [
      /^POST \/dev\/session$/,
      /^GET \/openapi\.json$/,
      /^GET \/docs$/,
      /^GET \/settings\/api-keys$/,
      /^GET \/settings\/api-keys\/app\.css$/,
      /^GET \/settings\/api-keys\/[a-z-]+\.js$/, // the page's script modules
    ];
    const undocumented = (route: string) => UNDOCUMENTED.some((pattern) => pattern.test(route));
    const registered = new Set(
      app.routes
        .filter((route) => route.method !== "ALL") // middleware
        .map((route) => `${route.method} ${route.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    for (const pattern of UNDOCUMENTED)
      expect(
        [...registered].some((route) => pattern.test(route)),
        `${pattern} names a real route`,
      ).toBe(true);
    expect([...registered].filter((route) => !undocumented(route)).sort()).toEqual([...documented].sort());
    expect(documented).toContain("GET /health");
  });

  it("GET /docs is an HTML reference that links the document", async () => {
    const response = await call("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain('href="/openapi.json"');
  });
});

describe("the error path", () => {
  it("an unknown route is a problem+json 404", async () => {
    await expectProblem(await call("/nope"), 404, "not_found");
  });

  it("every response carries X-Request-Id, echoing a well-formed incoming one", async () => {
    const echoed = await call("/health", { headers: { "X-Request-Id": "trace-123" } });
    expect(echoed.headers.get("X-Request-Id")).toBe("trace-123");
    const replaced = await call("/nope", { headers: { "X-Request-Id": "bad id with spaces" } });
    expect(replaced.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a non-JSON body on /api is 415", async () => {
    const response = await call("/api/keys", {
      method: "POST",
      headers: { "Content-Type": "text/plain", Authorization: `Bearer ${await sessionToken(newUserId())}` },
      body: "name=x",
    });
    await expectProblem(response, 415, "unsupported_media_type");
  });

  it("a body over 64 KB on /api is 413, whether or not Content-Length announces it", async () => {
    const big = JSON.stringify({ name: "x".repeat(70 * 1024) });
    const headers = {
      "Content-Type": "application/json",
      Authorization: `Bearer ${await sessionToken(newUserId())}`,
    };
    const announced = await call("/api/keys", {
      method: "POST",
      headers,
      body: big,
    });
    await expectProblem(announced, 413, "payload_too_large");
    const streamed = await call("/api/keys", {
      method: "POST",
      headers,
      body: new Blob([big]).stream(),
    });
    await expectProblem(streamed, 413, "payload_too_large");
  });

  it("missing configuration is a generic 503: the names go to the log, not the caller", async () => {
    const response = await workerFetch(new Request(`${ORIGIN}/health`), { SESSION_SECRET: undefined });
    const body = await expectProblem(response, 503, "service_unavailable");
    expect(JSON.stringify(body)).not.toContain("SESSION_SECRET");
  });
});

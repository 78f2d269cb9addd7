import { afterEach, describe, expect, it, vi } from "vitest";
import { ORIGIN, workerFetch } from "../support/http";
import { captureLogs } from "../support/logs";

afterEach(() => {
  vi.restoreAllMocks();
});

const get = (path: string, environment: "production" | "development") =>
  workerFetch(new Request(`${ORIGIN}${path}`), { ENVIRONMENT: environment });

describe("the access log", () => {
  it("is off in production: a served request prints nothing", async () => {
    const lines = captureLogs();
    expect((await get("/health", "production")).status).toBe(200);
    expect((await get("/v1/key", "production")).status).toBe(401);
    expect(lines.filter((line) => line.includes('"event":"request"'))).toEqual([]);
  });

  it("is one line per request in development", async () => {
    const lines = captureLogs();
    await get("/health", "development");
    const access = lines.filter((line) => line.includes('"event":"request"'));
    expect(access).toHaveLength(1);
    expect(JSON.parse(access[0] as string)).toMatchObject({ method: "GET", path: "/health", status: 200 });
  });
});

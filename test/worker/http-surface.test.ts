import { describe, expect, it } from "vitest";
import { allowedMethods } from "../../src/http/allowed-methods";
import { asUser, call, expectProblem, newUserId, workerFetch } from "../support/http";
import { issueKey, v1 } from "../support/v1";

const inDevelopment = (url: string) => workerFetch(new Request(url), { ENVIRONMENT: "development" });

describe("a wrong method on a known path", () => {
  it("allowedMethods reads the registered routes (pure)", () => {
    const routes = [
      { method: "ALL", path: "/v1/*" },
      { method: "GET", path: "/v1/projects/:id" },
      { method: "PATCH", path: "/v1/projects/:id" },
      { method: "PUT", path: "/v1/projects/:id/files/:path" },
    ];
    expect(allowedMethods(routes, "/v1/projects/abc")).toEqual(["GET", "HEAD", "PATCH"]);
    expect(allowedMethods(routes, "/v1/projects/abc/files/a%2Fb")).toEqual(["PUT"]);
    expect(allowedMethods(routes, "/v1/projects/abc/other")).toEqual([]);
    expect(allowedMethods(routes, "/v1/projects")).toEqual([]);
  });

  it("is 405 problem+json with Allow, not 404", async () => {
    const response = await call("/health", { method: "DELETE" });
    await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
  });

  it("on /v1 it lists the path's methods and keeps the rate-limit headers", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const response = await v1(key.key, `/v1/projects/${crypto.randomUUID()}`, { method: "DELETE" });
    await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("Allow")).toBe("GET, HEAD, PATCH");
    expect(response.headers.get("RateLimit-Policy")).not.toBeNull();
  });

  it("on /api the session comes first, then 405", async () => {
    await expectProblem(await call("/api/keys", { method: "PUT" }), 401, "invalid_session");
    const response = await asUser(newUserId(), "PUT", "/api/keys");
    await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("Allow")).toBe("GET, HEAD, POST");
  });

  it("an unknown path is still 404, and /dev/session in production is 404 for every method", async () => {
    await expectProblem(await call("/nope", { method: "DELETE" }), 404, "not_found");
    await expectProblem(await call("/dev/session"), 404, "not_found");
    await expectProblem(await call("/dev/session", { method: "POST" }), 404, "not_found");
  });
});

describe("the reference lists /dev/session only where it answers", () => {
  const paths = async (response: Response) =>
    Object.keys(((await response.json()) as { paths: Record<string, unknown> }).paths);

  it("production: not in /openapi.json nor /docs", async () => {
    const listed = await paths(await call("/openapi.json"));
    expect(listed).toContain("/v1/projects");
    expect(listed).not.toContain("/dev/session");
    expect(await (await call("/docs")).text()).not.toContain("/dev/session");
  });

  it("development on a loopback host: listed; on another host: not", async () => {
    const local = await inDevelopment("http://localhost:8787/openapi.json");
    expect(await paths(local)).toContain("/dev/session");
    const localDocs = await inDevelopment("http://localhost:8787/docs");
    expect(await localDocs.text()).toContain("/dev/session");
    const remote = await inDevelopment("https://keys.vulk.test/openapi.json");
    expect(await paths(remote)).not.toContain("/dev/session");
  });
});

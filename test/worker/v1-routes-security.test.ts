/**
 * Every /v1 route × every way a key can fail, written once and applied to all routes.
 */
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS, type Permission } from "../../src/domain/permissions";
import { generateKey, hashKey, keyStart } from "../../src/keys/token";
import { expectProblem, newUserId } from "../support/http";
import { db } from "../support/stores";
import { type IssuedKey, issueKey, v1 } from "../support/v1";

interface Fixture {
  projectId: string;
  deploymentId: string;
}

interface RouteCase {
  name: string;
  permission: Permission | null;
  method: string;
  path: (f: Fixture) => string;
  body?: unknown;
  ok: number[];
  /** Addresses a resource of the fixture's owner, so another owner must get 404. */
  ownerScoped: boolean;
}

const ROUTES: RouteCase[] = [
  {
    name: "GET /v1/key",
    permission: null,
    method: "GET",
    path: () => "/v1/key",
    ok: [200],
    ownerScoped: false,
  },
  {
    name: "GET /v1/projects",
    permission: "projects:read",
    method: "GET",
    path: () => "/v1/projects",
    ok: [200],
    ownerScoped: false,
  },
  {
    name: "GET /v1/projects/{id}",
    permission: "projects:read",
    method: "GET",
    path: (f) => `/v1/projects/${f.projectId}`,
    ok: [200],
    ownerScoped: true,
  },
  {
    name: "GET /v1/projects/{id}/deployments/{deploymentId}",
    permission: "projects:read",
    method: "GET",
    path: (f) => `/v1/projects/${f.projectId}/deployments/${f.deploymentId}`,
    ok: [200],
    ownerScoped: true,
  },
  {
    name: "POST /v1/projects",
    permission: "projects:write",
    method: "POST",
    path: () => "/v1/projects",
    body: { name: "new" },
    ok: [201],
    ownerScoped: false,
  },
  {
    name: "PATCH /v1/projects/{id}",
    permission: "projects:write",
    method: "PATCH",
    path: (f) => `/v1/projects/${f.projectId}`,
    body: { name: "renamed" },
    ok: [200],
    ownerScoped: true,
  },
  {
    name: "PUT /v1/projects/{id}/files/{path}",
    permission: "projects:write",
    method: "PUT",
    path: (f) => `/v1/projects/${f.projectId}/files/${encodeURIComponent("src/index.ts")}`,
    body: { content: "export {}" },
    ok: [200, 201],
    ownerScoped: true,
  },
  {
    name: "POST /v1/projects/{id}/deployments",
    permission: "deploy:write",
    method: "POST",
    path: (f) => `/v1/projects/${f.projectId}/deployments`,
    ok: [202],
    ownerScoped: true,
  },
  {
    name: "GET /v1/projects/{id}/export",
    permission: "export:read",
    method: "GET",
    path: (f) => `/v1/projects/${f.projectId}/export`,
    ok: [200],
    ownerScoped: true,
  },
];

let fixture: Fixture;
let owner: IssuedKey;
let stranger: IssuedKey;
let expired: string;

/** A key that exists but expired, written straight to the database. */
async function expiredKey(ownerId: string): Promise<string> {
  const key = generateKey();
  await db().execute(sql`insert into api_keys (owner_id, name, start, hash, permissions, expires_at)
    values (${ownerId}, 'expired', ${keyStart(key)}, ${await hashKey(key)}, ${`{${PERMISSIONS.join(",")}}`}::text[], now() - interval '1 minute')`);
  return key;
}

beforeAll(async () => {
  const ownerId = newUserId();
  owner = await issueKey(ownerId, [...PERMISSIONS]);
  stranger = await issueKey(newUserId(), [...PERMISSIONS]);
  expired = await expiredKey(ownerId);
  const project = (await (
    await v1(owner.key, "/v1/projects", { method: "POST", body: { name: "fixture" } })
  ).json()) as {
    id: string;
  };
  const deployment = (await (
    await v1(owner.key, `/v1/projects/${project.id}/deployments`, { method: "POST" })
  ).json()) as {
    id: string;
  };
  fixture = { projectId: project.id, deploymentId: deployment.id };
});

const send = (route: RouteCase, key: string | null) =>
  v1(key, route.path(fixture), { method: route.method, body: route.body });

describe.each(ROUTES)("$name", (route) => {
  it("no key → 401 missing_key", async () => {
    const response = await send(route, null);
    await expectProblem(response, 401, "missing_key");
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect(response.headers.get("RateLimit-Policy")).toBe('"ip";q=30;w=60');
  });

  it("malformed key → 401 malformed_key", async () => {
    await expectProblem(await send(route, "Bearer not-a-key"), 401, "malformed_key");
    await expectProblem(await send(route, `Basic ${btoa("a:b")}`), 401, "malformed_key");
  });

  it("bad checksum → 401 malformed_key", async () => {
    const last = owner.key.at(-1) === "0" ? "1" : "0";
    await expectProblem(await send(route, owner.key.slice(0, -1) + last), 401, "malformed_key");
  });

  it("unknown key → 401 invalid_key", async () => {
    await expectProblem(await send(route, generateKey()), 401, "invalid_key");
  });

  it("expired key → 401 key_expired", async () => {
    await expectProblem(await send(route, expired), 401, "key_expired");
  });

  if (route.permission) {
    const lacking = PERMISSIONS.filter((p) => p !== route.permission);
    it(`a key without ${route.permission} → 403 missing_permission`, async () => {
      const key = await issueKey(owner.ownerId, lacking);
      const problem = await expectProblem(await send(route, key.key), 403, "missing_permission");
      expect(problem.detail).toContain(route.permission);
    });
  }

  if (route.ownerScoped) {
    it("another owner's resource → 404, as if missing", async () => {
      await expectProblem(await send(route, stranger.key), 404, "not_found");
    });
  }

  it(`the right permission → ${route.ok.join("/")}, with rate-limit headers`, async () => {
    const key = await issueKey(owner.ownerId, route.permission ? [route.permission] : ["export:read"]);
    const response = await send(route, key.key);
    expect(route.ok).toContain(response.status);
    expect(response.headers.get("X-RateLimit-Limit")).toBe("60");
    expect(response.headers.get("RateLimit-Policy")).toBe('"key";q=60;w=60, "account";q=2000;w=60');
  });
});

import { exports } from "cloudflare:workers";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { apiKeys, auditEvents } from "../../src/db/schema";
import { markerKey } from "../../src/keys/keyspace";
import { hashKey } from "../../src/keys/token";
import { asUser, call, expectProblem, newUserId, sessionToken } from "../support/http";
import { db, redis } from "../support/stores";
import { inOneMinuteWindow } from "../support/window";

interface CreatedKey {
  id: string;
  name: string;
  start: string;
  permissions: string[];
  rateLimit: number;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  key: string;
}

async function createKey(userId: string, body: Record<string, unknown> = {}): Promise<CreatedKey> {
  const response = await asUser(userId, "POST", "/api/keys", {
    name: "ci",
    permissions: ["projects:read"],
    ...body,
  });
  expect(response.status).toBe(201);
  return (await response.json()) as CreatedKey;
}

const rowOf = async (id: string) => (await db().select().from(apiKeys).where(eq(apiKeys.id, id)))[0];
const marker = (id: string) => redis().get<string | number>(markerKey(id));

describe("POST /api/keys", () => {
  it("returns the key once, masked record beside it, never cached", async () => {
    const userId = newUserId();
    const response = await asUser(userId, "POST", "/api/keys", {
      name: "deploy bot",
      permissions: ["deploy:write", "projects:read"],
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const created = (await response.json()) as CreatedKey;
    expect(created.key).toMatch(/^vk_sk_[0-9A-Za-z]{38}$/);
    expect(created).toMatchObject({
      name: "deploy bot",
      start: `${created.key.slice(0, 10)}...`,
      permissions: ["projects:read", "deploy:write"],
      rateLimit: 60,
      lastUsedAt: null,
      expiresAt: null,
    });
  });

  it("stores the SHA-256 of the key, never the key itself", async () => {
    const created = await createKey(newUserId());
    const row = await rowOf(created.id);
    expect(row?.hash).toBe(await hashKey(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key);
    expect(row?.start).toBe(created.key.slice(0, 10));
  });

  it("sets the key's marker to its version", async () => {
    const created = await createKey(newUserId());
    expect(String(await marker(created.id))).toBe("1");
  });

  it("accepts a custom rate limit and a future expiry", async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const created = await createKey(newUserId(), { rateLimit: 1000, expiresAt });
    expect(created.rateLimit).toBe(1000);
    expect(created.expiresAt).toBe(expiresAt);
  });

  const invalid: [string, unknown, string][] = [
    ["empty name", { name: "", permissions: ["projects:read"] }, "name"],
    ["name over 64", { name: "x".repeat(65), permissions: ["projects:read"] }, "name"],
    ["no permissions", { name: "a", permissions: [] }, "permissions"],
    ["unknown permission", { name: "a", permissions: ["projects:delete"] }, "permissions.0"],
    ["rate limit below 10", { name: "a", permissions: ["projects:read"], rateLimit: 9 }, "rateLimit"],
    ["rate limit above 1000", { name: "a", permissions: ["projects:read"], rateLimit: 1001 }, "rateLimit"],
    ["fractional rate limit", { name: "a", permissions: ["projects:read"], rateLimit: 60.5 }, "rateLimit"],
    [
      "expiry in the past",
      { name: "a", permissions: ["projects:read"], expiresAt: "2020-01-01T00:00:00Z" },
      "expiresAt",
    ],
    [
      "expiry not a timestamp",
      { name: "a", permissions: ["projects:read"], expiresAt: "tomorrow" },
      "expiresAt",
    ],
    ["unknown field", { name: "a", permissions: ["projects:read"], owner: "someone" }, "(root)"],
    ["missing name", { permissions: ["projects:read"] }, "name"],
    ["not an object", ["projects:read"], "(root)"],
  ];
  it.each(invalid)("400 for %s, naming the field", async (_, body, path) => {
    const userId = newUserId();
    const response = await asUser(userId, "POST", "/api/keys", body);
    const problem = await expectProblem(response, 400, "invalid_request");
    expect((problem.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    const rows = await db().select().from(apiKeys).where(eq(apiKeys.ownerId, userId));
    expect(rows).toHaveLength(0);
  });

  it("an unknown permission is refused with the allowed ones listed", async () => {
    const response = await asUser(newUserId(), "POST", "/api/keys", { name: "a", permissions: ["admin"] });
    const problem = await expectProblem(response, 400, "invalid_request");
    const message = (problem.errors as { message: string }[])[0]?.message ?? "";
    for (const p of ["projects:read", "projects:write", "deploy:write", "export:read"])
      expect(message).toContain(p);
  });

  it("a missing or malformed body is 400, not 500", async () => {
    await expectProblem(await asUser(newUserId(), "POST", "/api/keys"), 400, "invalid_request");
    const malformed = await call("/api/keys", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${await sessionToken(newUserId())}`,
      },
      body: "{not json",
    });
    await expectProblem(malformed, 400, "invalid_request");
  });
});

describe("reading keys", () => {
  it("GET /api/keys lists active keys masked, newest first, in pages", async () => {
    const userId = newUserId();
    const created: CreatedKey[] = [];
    for (let i = 0; i < 5; i++) created.push(await createKey(userId, { name: `k${i}` }));
    const revoked = created[2] as CreatedKey;
    expect((await asUser(userId, "DELETE", `/api/keys/${revoked.id}`)).status).toBe(204);

    const first = (await (await asUser(userId, "GET", "/api/keys?limit=2")).json()) as {
      data: CreatedKey[];
      nextCursor: string | null;
    };
    expect(first.data.map((k) => k.name)).toEqual(["k4", "k3"]);
    const second = (await (
      await asUser(userId, "GET", `/api/keys?limit=2&cursor=${first.nextCursor}`)
    ).json()) as {
      data: CreatedKey[];
      nextCursor: string | null;
    };
    expect(second.data.map((k) => k.name)).toEqual(["k1", "k0"]);
    expect(second.nextCursor).toBeNull();

    const text = JSON.stringify([first, second]);
    for (const key of created) expect(text).not.toContain(key.key);
    expect(text).not.toContain("hash");
    expect(first.data[0]?.start).toMatch(/^vk_sk_[0-9A-Za-z]{4}\.\.\.$/);
  });

  it("the default page is 20 and the limit is checked", async () => {
    const userId = newUserId();
    const names = Array.from({ length: 23 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    for (const name of names) await createKey(userId, { name });
    type Page = { data: CreatedKey[]; nextCursor: string | null };
    const first = (await (await asUser(userId, "GET", "/api/keys")).json()) as Page;
    expect(first.data).toHaveLength(20);
    expect(first.data.map((k) => k.name)).toEqual(names.slice(3).reverse());
    expect(first.nextCursor).not.toBeNull();
    const rest = (await (await asUser(userId, "GET", `/api/keys?cursor=${first.nextCursor}`)).json()) as Page;
    expect(rest.data.map((k) => k.name)).toEqual(names.slice(0, 3).reverse());
    expect(rest.nextCursor).toBeNull();

    await expectProblem(await asUser(newUserId(), "GET", "/api/keys?limit=0"), 400, "invalid_request");
    await expectProblem(await asUser(newUserId(), "GET", "/api/keys?limit=101"), 400, "invalid_request");
    await expectProblem(await asUser(newUserId(), "GET", "/api/keys?cursor=nope"), 400, "invalid_request");
  });

  it("GET /api/keys/:id shows the masked record; another user's key is a 404", async () => {
    const owner = newUserId();
    const created = await createKey(owner);
    const mine = await asUser(owner, "GET", `/api/keys/${created.id}`);
    expect(mine.status).toBe(200);
    const { key: _key, ...record } = created;
    expect(await mine.json()).toEqual(record);
    await expectProblem(await asUser(newUserId(), "GET", `/api/keys/${created.id}`), 404, "not_found");
    await expectProblem(await asUser(owner, "GET", "/api/keys/not-a-uuid"), 404, "not_found");
  });
});

describe("PATCH /api/keys/:id", () => {
  it("changes name, permissions and limit, bumps the version and writes the marker before answering", async () => {
    const userId = newUserId();
    const created = await createKey(userId);
    const response = await asUser(userId, "PATCH", `/api/keys/${created.id}`, {
      name: "renamed",
      permissions: ["export:read", "projects:write"],
      rateLimit: 120,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      name: "renamed",
      permissions: ["projects:write", "export:read"],
      rateLimit: 120,
    });
    const row = await rowOf(created.id);
    expect(row?.version).toBe(2);
    expect(String(await marker(created.id))).toBe("2");
  });

  it("an empty change, a bad value or another user's key is refused and changes nothing", async () => {
    const userId = newUserId();
    const created = await createKey(userId);
    await expectProblem(await asUser(userId, "PATCH", `/api/keys/${created.id}`, {}), 400, "invalid_request");
    await expectProblem(
      await asUser(userId, "PATCH", `/api/keys/${created.id}`, { rateLimit: 5 }),
      400,
      "invalid_request",
    );
    await expectProblem(
      await asUser(newUserId(), "PATCH", `/api/keys/${created.id}`, { name: "x" }),
      404,
      "not_found",
    );
    expect((await rowOf(created.id))?.version).toBe(1);
  });
});

describe("DELETE /api/keys/:id", () => {
  it("revokes: the marker says so before the answer, the key leaves the list, a repeat re-writes the marker", async () => {
    const userId = newUserId();
    const created = await createKey(userId);
    expect((await asUser(userId, "DELETE", `/api/keys/${created.id}`)).status).toBe(204);
    expect(await marker(created.id)).toBe("revoked");
    const row = await rowOf(created.id);
    expect(row?.revokedAt).toBeInstanceOf(Date);
    await expectProblem(await asUser(userId, "GET", `/api/keys/${created.id}`), 404, "not_found");

    await redis().del(markerKey(created.id));
    expect((await asUser(userId, "DELETE", `/api/keys/${created.id}`)).status).toBe(204);
    expect(await marker(created.id)).toBe("revoked");
  });

  it("another user's key is a 404 and stays active", async () => {
    const created = await createKey(newUserId());
    await expectProblem(await asUser(newUserId(), "DELETE", `/api/keys/${created.id}`), 404, "not_found");
    expect((await rowOf(created.id))?.revokedAt).toBeNull();
  });
});

describe("POST /api/keys/:id/roll", () => {
  it("issues a new secret once; the old one stays valid for the grace period only", async () => {
    const userId = newUserId();
    const created = await createKey(userId);
    const response = await asUser(userId, "POST", `/api/keys/${created.id}/roll`, {
      gracePeriodSeconds: 600,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const rolled = (await response.json()) as CreatedKey;
    expect(rolled.id).toBe(created.id);
    expect(rolled.key).not.toBe(created.key);
    const row = await rowOf(created.id);
    expect(row?.hash).toBe(await hashKey(rolled.key));
    expect(row?.previousHash).toBe(await hashKey(created.key));
    const graceLeft = (row?.previousExpiresAt?.getTime() ?? 0) - Date.now();
    expect(graceLeft).toBeGreaterThan(590_000);
    expect(graceLeft).toBeLessThanOrEqual(600_000);
    expect(String(await marker(created.id))).toBe(String(row?.version));

    // A second roll drops the older previous secret at once.
    const again = (await (await asUser(userId, "POST", `/api/keys/${created.id}/roll`)).json()) as CreatedKey;
    const after = await rowOf(created.id);
    expect(after?.hash).toBe(await hashKey(again.key));
    expect(after?.previousHash).toBeNull();
    expect(after?.previousExpiresAt).toBeNull();
  });

  it("refuses a grace period over a day, and a revoked key", async () => {
    const userId = newUserId();
    const created = await createKey(userId);
    const tooLong = await asUser(userId, "POST", `/api/keys/${created.id}/roll`, {
      gracePeriodSeconds: 86_401,
    });
    await expectProblem(tooLong, 400, "invalid_request");
    await asUser(userId, "DELETE", `/api/keys/${created.id}`);
    await expectProblem(await asUser(userId, "POST", `/api/keys/${created.id}/roll`), 404, "not_found");
  });
});

describe("limits", () => {
  it("holds at 100 active keys under 20 concurrent creates", async () => {
    const userId = newUserId();
    const seeded = Array.from({ length: 95 }, (_, i) => ({
      ownerId: userId,
      name: `seed ${i}`,
      start: "vk_sk_seed",
      hash: `seed-${userId}-${i}`,
      permissions: ["projects:read"],
    }));
    await db().insert(apiKeys).values(seeded);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        asUser(userId, "POST", "/api/keys", { name: "race", permissions: ["projects:read"] }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    const [{ count }] = (await db()
      .select({ count: sql<number>`count(*)::int` })
      .from(apiKeys)
      .where(and(eq(apiKeys.ownerId, userId), sql`revoked_at is null`))) as [{ count: number }];
    expect(count).toBe(100);
    const refused = responses.find((r) => r.status === 409) as Response;
    await expectProblem(refused, 409, "key_limit_reached");
  });

  it("limits key writes to 60 a minute per user", async () => {
    inOneMinuteWindow();
    const userId = newUserId();
    const created = await createKey(userId); // write 1
    for (let i = 2; i <= 60; i++) {
      expect((await asUser(userId, "PATCH", `/api/keys/${created.id}`, { name: `n${i}` })).status).toBe(200);
    }
    const refused = await asUser(userId, "PATCH", `/api/keys/${created.id}`, { name: "one too many" });
    await expectProblem(refused, 429, "rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    // Another user is unaffected.
    expect(
      (await asUser(newUserId(), "POST", "/api/keys", { name: "x", permissions: ["projects:read"] })).status,
    ).toBe(201);
  });
});

describe("audit", () => {
  it("records created, updated, rolled and revoked with actor, key, IP and user agent, newest first", async () => {
    const userId = newUserId();
    const headers = {
      Authorization: `Bearer ${await sessionToken(userId)}`,
      "Content-Type": "application/json",
      "CF-Connecting-IP": "203.0.113.7",
      "User-Agent": "audit-test/1.0",
    };
    const created = (await (
      await call("/api/keys", {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "a", permissions: ["projects:read"] }),
      })
    ).json()) as CreatedKey;
    await call(`/api/keys/${created.id}`, { method: "PATCH", headers, body: JSON.stringify({ name: "b" }) });
    await call(`/api/keys/${created.id}/roll`, { method: "POST", headers, body: "{}" });
    await call(`/api/keys/${created.id}`, { method: "DELETE", headers: { ...headers, "Content-Type": "" } });

    const events = (await (await asUser(userId, "GET", "/api/audit?limit=3")).json()) as {
      data: { action: string; actor: string; keyId: string; ip: string; userAgent: string }[];
      nextCursor: string;
    };
    expect(events.data.map((e) => e.action)).toEqual(["key.revoked", "key.rolled", "key.updated"]);
    expect(events.data[0]).toMatchObject({
      actor: userId,
      keyId: created.id,
      ip: "203.0.113.7",
      userAgent: "audit-test/1.0",
    });
    const rest = (await (await asUser(userId, "GET", `/api/audit?cursor=${events.nextCursor}`)).json()) as {
      data: { action: string }[];
    };
    expect(rest.data.map((e) => e.action)).toEqual(["key.created"]);
    const others = (await (await asUser(newUserId(), "GET", "/api/audit")).json()) as { data: unknown[] };
    expect(others.data).toEqual([]);
  });

  it("a refused write leaves no audit event", async () => {
    const userId = newUserId();
    await asUser(userId, "POST", "/api/keys", { name: "", permissions: ["projects:read"] });
    const rows = await db().select().from(auditEvents).where(eq(auditEvents.ownerId, userId));
    expect(rows).toEqual([]);
  });
});

describe("RPC revokeAllKeys", () => {
  it("revokes every active key of the owner, audited, markers written", async () => {
    const userId = newUserId();
    const keys = [await createKey(userId), await createKey(userId)];
    const other = await createKey(newUserId());
    const result = await exports.default.revokeAllKeys(userId, "account deleted");
    if (!result.ok) throw new Error(`revokeAllKeys failed: ${result.code}`);
    expect(result.revokedKeyIds.sort()).toEqual(keys.map((k) => k.id).sort());
    for (const key of keys) expect(await marker(key.id)).toBe("revoked");
    expect((await rowOf(other.id))?.revokedAt).toBeNull();
    const list = (await (await asUser(userId, "GET", "/api/keys")).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    const audit = await db()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.ownerId, userId), eq(auditEvents.action, "key.revoked")));
    expect(audit.map((a) => a.actor)).toEqual(["system:rpc", "system:rpc"]);
  });
});

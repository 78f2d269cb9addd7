/**
 * Trust under faults and abuse (docs/DESIGN.md#marker-protocol, #failed-authentication): whatever
 * fails, the dashboard's answer and /v1's verdict agree; a dead secret never spends a live key's
 * limit; other clients' failures never lock a valid key out; a limit change is in force at once.
 */
import { exports } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiKeys } from "../../src/db/schema";
import { keyHashIndexKey, markerKey } from "../../src/keys/keyspace";
import { generateKey, hashKey } from "../../src/keys/token";
import { resetLeaseMemory } from "../../src/limits/leased-window";
import { FAILED_AUTH_LIMIT } from "../../src/verify/failed-auth";
import { asUser, expectProblem, newUserId } from "../support/http";
import { countRequests } from "../support/stack";
import { db } from "../support/stores";
import { freshIp, issueKey, markerCommand, setFault, upstashCommand, v1 } from "../support/v1";
import { inOneMinuteWindow } from "../support/window";

afterEach(async () => {
  vi.useRealTimers();
  await setFault("upstash", "none");
  await setFault("neon", "none");
  resetLeaseMemory();
});

function advance(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

const listedIds = async (ownerId: string) => {
  const list = (await (await asUser(ownerId, "GET", "/api/keys")).json()) as { data: { id: string }[] };
  return list.data.map((k) => k.id);
};

const rowOf = async (id: string) => (await db().select().from(apiKeys).where(eq(apiKeys.id, id)))[0];

describe("a change answered 503 in a Redis blip", () => {
  it("DELETE: nothing changed — the dashboard still lists the key and /v1 still accepts it", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200); // cached in this isolate
    await setFault("upstash", "error");
    await expectProblem(
      await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`),
      503,
      "service_unavailable",
    );
    await setFault("upstash", "none");
    expect((await rowOf(key.id))?.revokedAt).toBeNull();
    expect(await listedIds(key.ownerId)).toContain(key.id);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    // Repeating the request now works, on the very next /v1 request.
    expect((await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
  });

  it("PATCH permissions: nothing changed — /v1 enforces what the dashboard shows", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/projects")).status).toBe(200);
    await setFault("upstash", "error");
    const patch = await asUser(key.ownerId, "PATCH", `/api/keys/${key.id}`, {
      permissions: ["deploy:write"],
    });
    await expectProblem(patch, 503, "service_unavailable");
    await setFault("upstash", "none");
    const shown = (await (await asUser(key.ownerId, "GET", `/api/keys/${key.id}`)).json()) as {
      permissions: string[];
    };
    expect(shown.permissions).toEqual(["projects:read"]);
    expect((await v1(key.key, "/v1/projects")).status).toBe(200);
  });

  it("roll with grace 0: nothing changed — the old secret still works and is still the stored one", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    const before = await rowOf(key.id);
    await setFault("upstash", "error");
    const roll = await asUser(key.ownerId, "POST", `/api/keys/${key.id}/roll`, { gracePeriodSeconds: 0 });
    await expectProblem(roll, 503, "service_unavailable");
    await setFault("upstash", "none");
    expect((await rowOf(key.id))?.hash).toBe(before?.hash);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
  });
});

describe("a change whose marker never reached Redis", () => {
  it("a Worker that died after the commit (marker left `changing`) is enforced on the next request", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await markerCommand("SET", markerKey(key.id), "changing", "EX", "30");
    await db()
      .update(apiKeys)
      .set({ revokedAt: sql`now()`, version: sql`version + 1` })
      .where(eq(apiKeys.id, key.id));
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
  });

  it("a marker that Redis lost back to an old version: a cached row is never used 60 s after it was read", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    // Revoked in the database; the marker still shows the version this isolate cached.
    await db()
      .update(apiKeys)
      .set({ revokedAt: sql`now()`, version: sql`version + 1` })
      .where(eq(apiKeys.id, key.id));
    advance(61_000);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
  });
});

describe("a dead secret never touches the key's counter", () => {
  it("40 requests with a rolled-away secret after its grace count against the client; the new secret keeps its limit", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    const rolled = await asUser(key.ownerId, "POST", `/api/keys/${key.id}/roll`, { gracePeriodSeconds: 1 });
    const fresh = ((await rolled.json()) as { key: string }).key;
    inOneMinuteWindow(); // also well past the 1 s grace
    const ip = freshIp();
    for (let i = 0; i < 40; i++) {
      const old = await v1(key.key, "/v1/key", { ip });
      expect(old.status).toBe(i < FAILED_AUTH_LIMIT ? 401 : 429);
      expect(old.headers.get("RateLimit-Policy")).toBe(`"ip";q=${FAILED_AUTH_LIMIT};w=60`);
    }
    const live = await v1(fresh, "/v1/key");
    expect(live.status).toBe(200);
    expect(live.headers.get("X-RateLimit-Remaining")).toBe("9");
  });

  it("a revoked key is a failed authentication of the client, with the client's policy", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect((await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    const ip = freshIp();
    const refused = await v1(key.key, "/v1/key", { ip });
    await expectProblem(refused, 401, "key_revoked");
    expect(refused.headers.get("RateLimit-Policy")).toBe(`"ip";q=${FAILED_AUTH_LIMIT};w=60`);
    expect(refused.headers.get("X-RateLimit-Remaining")).toBe(String(FAILED_AUTH_LIMIT - 1));
  });

  it("an expired key is a failed authentication of the client, with the client's policy", async () => {
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10, expiresAt });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    advance(120_000);
    const refused = await v1(key.key, "/v1/key");
    await expectProblem(refused, 401, "key_expired");
    expect(refused.headers.get("RateLimit-Policy")).toBe(`"ip";q=${FAILED_AUTH_LIMIT};w=60`);
  });
});

describe("other clients' failures", () => {
  it("a valid key never used before is accepted from an address over its failed-auth limit", async () => {
    const ip = freshIp();
    inOneMinuteWindow();
    for (let i = 0; i < 40; i++) await v1(generateKey(), "/v1/key", { ip });
    await expectProblem(await v1(generateKey(), "/v1/key", { ip }), 429, "rate_limited");
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key", { ip })).status).toBe(200);
  });

  it("unknown keys from an address over its limit still cost no Neon query", async () => {
    const ip = freshIp();
    inOneMinuteWindow();
    for (let i = 0; i < FAILED_AUTH_LIMIT + 1; i++) await v1(generateKey(), "/v1/key", { ip });
    const over = await countRequests(() => v1(generateKey(), "/v1/key", { ip }));
    await expectProblem(over.result, 429, "rate_limited");
    expect(over.neon).toBe(0);
  });
});

describe("a limit change is in force on the next request", () => {
  it("raising a spent key's limit admits the next request", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    inOneMinuteWindow();
    for (let i = 0; i < 10; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await expectProblem(await v1(key.key, "/v1/key"), 429, "rate_limited");
    expect((await asUser(key.ownerId, "PATCH", `/api/keys/${key.id}`, { rateLimit: 100 })).status).toBe(200);
    const next = await v1(key.key, "/v1/key");
    expect(next.status).toBe(200);
    expect(next.headers.get("X-RateLimit-Limit")).toBe("100");
  });
});

describe("rolling an expired key", () => {
  it("is refused with 409: it would hand out a secret that is already expired", async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const key = await issueKey(newUserId(), ["projects:read"], { expiresAt });
    await db()
      .update(apiKeys)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(apiKeys.id, key.id));
    await expectProblem(await asUser(key.ownerId, "POST", `/api/keys/${key.id}/roll`, {}), 409, "conflict");
  });
});

describe("the key-hash index", () => {
  it("follows every key change: written on create, both secrets during a roll's grace, removed on revoke", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const hash = await hashKey(key.key);
    expect(await upstashCommand("GET", keyHashIndexKey(hash))).toBe(key.id);
    const rolled = await asUser(key.ownerId, "POST", `/api/keys/${key.id}/roll`, { gracePeriodSeconds: 120 });
    const fresh = await hashKey(((await rolled.json()) as { key: string }).key);
    expect(await upstashCommand("GET", keyHashIndexKey(fresh))).toBe(key.id);
    const ttl = Number(await upstashCommand("TTL", keyHashIndexKey(hash)));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
    expect((await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    expect(await upstashCommand("EXISTS", keyHashIndexKey(hash), keyHashIndexKey(fresh))).toBe(0);
  });

  it("an entry Redis lost comes back with the Cron Trigger's rebuild, which is idempotent", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const hash = await hashKey(key.key);
    await upstashCommand("DEL", keyHashIndexKey(hash));
    const ip = freshIp();
    inOneMinuteWindow();
    for (let i = 0; i < FAILED_AUTH_LIMIT + 1; i++) await v1(generateKey(), "/v1/key", { ip });
    // Without its entry the valid cold key looks unknown to a blocked client.
    await expectProblem(await v1(key.key, "/v1/key", { ip }), 429, "rate_limited");
    let pass: Awaited<ReturnType<typeof exports.default.rebuildKeyIndex>>;
    do pass = await exports.default.rebuildKeyIndex();
    while (pass.ok && !pass.passComplete);
    expect(pass.ok).toBe(true);
    expect(await upstashCommand("GET", keyHashIndexKey(hash))).toBe(key.id);
    const again = await exports.default.rebuildKeyIndex();
    expect(again.ok).toBe(true);
    expect(await upstashCommand("GET", keyHashIndexKey(hash))).toBe(key.id);
    expect((await v1(key.key, "/v1/key", { ip })).status).toBe(200);
  });
});

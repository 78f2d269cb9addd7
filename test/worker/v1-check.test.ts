/**
 * The key check of docs/DESIGN.md#the-key-check: round trips, the marker protocol, one counter for HTTP and RPC,
 * the failed-auth limit and the rate-limit headers (docs/DESIGN.md#rate-limit-headers).
 */
import { exports } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { apiKeys } from "../../src/db/schema";
import { lastUsedGateKey, markerKey } from "../../src/keys/keyspace";
import { generateKey } from "../../src/keys/token";
import { leaseBatch } from "../../src/limits/leased-window";
import { FAILED_AUTH_LIMIT } from "../../src/verify/failed-auth";
import { asUser, expectProblem, newUserId } from "../support/http";
import { regionSyncedNow } from "../support/region";
import { countRequests, leasedRun } from "../support/stack";
import { db } from "../support/stores";
import { freshIp, issueKey, markerCommand, upstashCommand, v1 } from "../support/v1";
import { inOneMinuteWindow } from "../support/window";

/** Marks the key as used this minute, so no last-used write joins the counts being measured. */
const closeLastUsedGate = (keyId: string) => upstashCommand("SET", lastUsedGateKey(keyId), "1", "EX", "60");

beforeAll(async () => {
  // Load the limiter scripts into Redis once (the invariants are stated with scripts loaded).
  const warm = await issueKey(newUserId(), ["projects:read"]);
  await v1(warm.key, "/v1/key");
  await v1(null, "/v1/key");
});

afterEach(() => {
  vi.useRealTimers();
});

describe("round trips on GET /v1/key", () => {
  it("cold key: 1 Upstash + 1 Neon; warm key: 1 Upstash + 0 Neon", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    await closeLastUsedGate(key.id);
    await regionSyncedNow();
    // Leased, cold: the region's request; both leases empty, so their grants (and batches beside them)
    // in one primary request; the batches credited in one more regional request; usage on the primary.
    const cold = await countRequests(() => v1(key.key, "/v1/key"));
    expect(cold.result.status).toBe(200);
    expect({ upstash: cold.upstash, neon: cold.neon }).toEqual(
      leasedRun ? { upstash: 4, neon: 1 } : { upstash: 1, neon: 1 },
    );
    const warm = await countRequests(() => v1(key.key, "/v1/key"));
    expect(warm.result.status).toBe(200);
    expect({ upstash: warm.upstash, neon: warm.neon }).toEqual(
      leasedRun ? { upstash: 2, neon: 0 } : { upstash: 1, neon: 0 },
    );
    if (leasedRun) expect(warm.upstashRegion).toBe(1);
  });

  it("malformed key: 0 Neon (one Upstash request for the failed-auth count)", async () => {
    const malformed = await countRequests(() => v1("Bearer vk_sk_short", "/v1/key"));
    expect(malformed.result.status).toBe(401);
    expect({ upstash: malformed.upstash, neon: malformed.neon }).toEqual({ upstash: 1, neon: 0 });
  });

  it("an unknown key is looked up once, then remembered as unknown", async () => {
    const unknown = generateKey();
    const first = await countRequests(() => v1(unknown, "/v1/key"));
    expect(first.neon).toBe(1);
    const again = await countRequests(() => v1(unknown, "/v1/key"));
    expect(again.result.status).toBe(401);
    expect(again.neon).toBe(0);
  });

  it("the first use in a minute writes last_used_at once", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const first = await countRequests(() => v1(key.key, "/v1/key"));
    expect(first.neon).toBe(2); // the lookup + the last-used write
    const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, key.id));
    expect(row?.lastUsedAt).toBeInstanceOf(Date);
    const second = await countRequests(() => v1(key.key, "/v1/key"));
    expect(second.neon).toBe(0);
  });
});

describe("revocation and changes are seen on the very next request", () => {
  it("revoked out of band (SQL + marker, not through the Worker) → 401 key_revoked", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/projects")).status).toBe(200);
    await db().execute(
      sql`update api_keys set revoked_at = now(), version = version + 1 where id = ${key.id}::uuid`,
    );
    await markerCommand("SET", markerKey(key.id), "revoked");
    await expectProblem(await v1(key.key, "/v1/projects"), 401, "key_revoked");
  });

  it("permissions changed out of band (SQL + marker) → the next request uses them", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/projects")).status).toBe(200);
    const [row] = await db()
      .update(apiKeys)
      .set({ permissions: ["export:read"], version: sql`version + 1` })
      .where(eq(apiKeys.id, key.id))
      .returning();
    await markerCommand("SET", markerKey(key.id), String(row?.version));
    await expectProblem(await v1(key.key, "/v1/projects"), 403, "missing_permission");
  });

  it("DELETE through the endpoint → the next request is refused", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/projects")).status).toBe(200);
    expect((await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    await expectProblem(await v1(key.key, "/v1/projects"), 401, "key_revoked");
  });

  it("PATCH through the endpoint → the next request has the new permissions and limit", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/projects")).status).toBe(200);
    const patched = await asUser(key.ownerId, "PATCH", `/api/keys/${key.id}`, {
      permissions: ["deploy:write"],
      rateLimit: 20,
    });
    expect(patched.status).toBe(200);
    const refused = await v1(key.key, "/v1/projects");
    await expectProblem(refused, 403, "missing_permission");
    expect(refused.headers.get("X-RateLimit-Limit")).toBe("20");
  });

  it("a lowered limit applies to the very next request, counting what the window already used", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 60 });
    inOneMinuteWindow();
    for (let i = 0; i < 5; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect((await asUser(key.ownerId, "PATCH", `/api/keys/${key.id}`, { rateLimit: 10 })).status).toBe(200);
    const next = await v1(key.key, "/v1/key"); // counted under 60 before the re-read: the 6th of 10
    expect(next.headers.get("X-RateLimit-Limit")).toBe("10");
    expect(next.headers.get("X-RateLimit-Remaining")).toBe("4");
    for (let i = 0; i < 4; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await expectProblem(await v1(key.key, "/v1/key"), 429, "rate_limited");
  });

  it("a marker lost from Redis makes the row be re-read and the marker restored", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    await v1(key.key, "/v1/key");
    await markerCommand("DEL", markerKey(key.id));
    const reread = await countRequests(() => v1(key.key, "/v1/key"));
    expect(reread.result.status).toBe(200);
    expect(reread.neon).toBe(1);
    expect(await markerCommand("GET", markerKey(key.id))).toBe("1");
  });

  it("a rolled key's old secret works during the grace period only, the new one at once", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    const rolled = (await (
      await asUser(key.ownerId, "POST", `/api/keys/${key.id}/roll`, { gracePeriodSeconds: 60 })
    ).json()) as {
      key: string;
    };
    expect((await v1(rolled.key, "/v1/key")).status).toBe(200);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_expired");
    expect((await v1(rolled.key, "/v1/key")).status).toBe(200);
  });
});

describe("the rate limit", () => {
  it.each([10, 60])(
    "3L concurrent calls on a fresh key at L = %i admit exactly L (leased: never more)",
    async (limit) => {
      const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: limit });
      await v1(key.key, "/v1/key"); // warm the key: the burst then measures the limiter alone
      inOneMinuteWindow();
      const responses = await Promise.all(Array.from({ length: 3 * limit }, () => v1(key.key, "/v1/key")));
      const admitted = responses.filter((r) => r.status === 200).length;
      // Leased: never more; at most two batches (the lease's, the one on its way) end unspent.
      expect(admitted).toBeLessThanOrEqual(limit);
      expect(admitted).toBeGreaterThanOrEqual(leasedRun ? limit - 2 * leaseBatch(limit) : limit);
      expect(responses.filter((r) => r.status === 429)).toHaveLength(3 * limit - admitted);
    },
  );

  it("Remaining counts down; a 429 has Retry-After ≥ 1; Reset is within the window", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    inOneMinuteWindow();
    const remaining: number[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await v1(key.key, "/v1/key");
      expect(response.status).toBe(200);
      remaining.push(Number(response.headers.get("X-RateLimit-Remaining")));
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const limited = await v1(key.key, "/v1/key");
    await expectProblem(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    const untilReset = Number(limited.headers.get("X-RateLimit-Reset")) - Date.now() / 1000;
    expect(untilReset).toBeGreaterThanOrEqual(0);
    expect(untilReset).toBeLessThanOrEqual(60);
    expect(limited.headers.get("RateLimit")).toMatch(/^"key";r=0;t=\d+, "account";r=\d+;t=\d+$/);
  });

  it("headers report the key's own limit when the limiter answers from its cache", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    inOneMinuteWindow();
    for (let i = 0; i < 11; i++) await v1(key.key, "/v1/key");
    // Over the limit: the limiter's ephemeral cache now answers without asking Redis.
    const cached = await v1(key.key, "/v1/key");
    expect(cached.status).toBe(429);
    expect(cached.headers.get("X-RateLimit-Limit")).toBe("10");
    expect(cached.headers.get("RateLimit-Policy")).toBe('"key";q=10;w=60, "account";q=2000;w=60');
  });

  it("HTTP and RPC share one counter: 5 HTTP + 10 RPC calls at limit 10 admit exactly 10", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    inOneMinuteWindow();
    let admitted = 0;
    for (let i = 0; i < 5; i++) if ((await v1(key.key, "/v1/key")).status === 200) admitted++;
    for (let i = 0; i < 10; i++) {
      const result = await exports.default.verify(key.key, "projects:read");
      if (result.ok) admitted++;
      else expect(result.code).toBe("rate_limited");
    }
    expect(admitted).toBe(10);
  });
});

describe("RPC verify", () => {
  it("answers with the key, its permissions and the limiter state (reset in unix seconds)", async () => {
    const key = await issueKey(newUserId(), ["projects:read", "deploy:write"], { rateLimit: 30 });
    const result = await exports.default.verify(key.key);
    expect(result).toMatchObject({
      ok: true,
      keyId: key.id,
      ownerId: key.ownerId,
      permissions: ["projects:read", "deploy:write"],
      ratelimit: { limit: 30, remaining: 29 },
    });
    expect(result.ratelimit.reset - Date.now() / 1000).toBeLessThanOrEqual(60);
    expect(await exports.default.verify(key.key, "export:read")).toMatchObject({
      ok: false,
      code: "missing_permission",
      keyId: key.id,
    });
    expect(await exports.default.verify("vk_sk_nope")).toMatchObject({ ok: false, code: "malformed_key" });
    expect(await exports.default.verify(generateKey())).toMatchObject({ ok: false, code: "invalid_key" });
  });
});

describe("failed authentication is limited per client", () => {
  it(`after ${FAILED_AUTH_LIMIT} failures a client gets 429 — before any Neon query`, async () => {
    const ip = freshIp();
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
      const response = await v1("Bearer nope", "/v1/key", { ip });
      expect(response.status).toBe(401);
      expect(response.headers.get("X-RateLimit-Remaining")).toBe(String(FAILED_AUTH_LIMIT - 1 - i));
    }
    const over = await countRequests(() => v1(generateKey(), "/v1/key", { ip }));
    await expectProblem(over.result, 429, "rate_limited");
    // One Upstash read of the key-hash index tells an unknown key from a valid one: no Neon query.
    expect({ neon: over.neon, upstash: over.upstash }).toEqual({ neon: 0, upstash: 1 });
    expect(over.result.headers.get("RateLimit-Policy")).toBe(`"ip";q=${FAILED_AUTH_LIMIT};w=60`);
    // Another client is not affected; nor is this client's valid key.
    expect((await v1("Bearer nope", "/v1/key")).status).toBe(401);
  });

  it("an IPv6 client is limited per /64", async () => {
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++)
      await v1("Bearer nope", "/v1/key", { ip: `2001:db8:aa:bb::${i + 1}` });
    await expectProblem(
      await v1("Bearer nope", "/v1/key", { ip: "2001:db8:aa:bb:ffff::1" }),
      429,
      "rate_limited",
    );
    expect((await v1("Bearer nope", "/v1/key", { ip: "2001:db8:aa:bc::1" })).status).toBe(401);
  });
});

describe("CORS on /v1", () => {
  it("a preflight needs no key; responses expose the rate-limit headers and Allow to any origin", async () => {
    const preflight = await v1(null, "/v1/projects", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(preflight.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    const key = await issueKey(newUserId(), ["projects:read"]);
    const response = await v1(key.key, "/v1/key", { headers: { Origin: "https://app.example" } });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const exposed = response.headers.get("Access-Control-Expose-Headers") ?? "";
    for (const name of [
      "X-RateLimit-Limit",
      "X-RateLimit-Remaining",
      "X-RateLimit-Reset",
      "RateLimit",
      "Retry-After",
      "X-Request-Id",
      "Allow",
    ]) {
      expect(exposed).toContain(name);
    }
  });
});

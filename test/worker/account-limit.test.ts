/** One limit for all keys of an owner (docs/DESIGN.md#account-limit), in the key check's one request. */
import { exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { LIMITER_PREFIX, lastUsedGateKey } from "../../src/keys/keyspace";
import { leaseBatch } from "../../src/limits/leased-window";
import { slidingWindow } from "../../src/limits/sliding-window";
import { expectProblem, newUserId } from "../support/http";
import { regionSyncedNow } from "../support/region";
import { countRequests, leasedRun } from "../support/stack";
import { redis } from "../support/stores";
import { issueKey, upstashCommand, v1 } from "../support/v1";
import { inOneMinuteWindow } from "../support/window";

beforeAll(async () => {
  // The limiter and check scripts are loaded once; the budgets are stated with scripts loaded.
  const warm = await issueKey(newUserId(), ["projects:read"]);
  await v1(warm.key, "/v1/key");
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the account limit", () => {
  it("3 keys of one owner at 1000/min each: 2100 requests in one window admit exactly 2000", async () => {
    const owner = newUserId();
    const keys = await Promise.all(
      [0, 1, 2].map(() => issueKey(owner, ["projects:read"], { rateLimit: 1000 })),
    );
    inOneMinuteWindow();
    let admitted = 0;
    let limitedByAccount = 0;
    for (let round = 0; round < 210; round++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => v1((keys[(round + i) % 3] as { key: string }).key, "/v1/key")),
      );
      for (const answer of answers) {
        if (answer.status === 200) admitted += 1;
        else {
          expect(answer.status).toBe(429);
          const body = (await answer.json()) as { detail: string };
          expect(body.detail).toMatch(/account allows 2000/);
          limitedByAccount += 1;
        }
      }
    }
    // Leased: never more; at most two batches of the account's lease end the window unspent.
    expect(admitted).toBeLessThanOrEqual(2000);
    expect(admitted).toBeGreaterThanOrEqual(leasedRun ? 2000 - 2 * leaseBatch(2000) : 2000);
    expect(limitedByAccount).toBe(2100 - admitted);
  }, 60_000);

  it("headers list both policies; X-RateLimit-* report the one closer to exhaustion", async () => {
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"], { rateLimit: 100 });
    expect(await exports.default.setAccountLimit(owner, 20)).toEqual({
      ok: true,
      rateLimit: 20,
      source: "account",
    });
    inOneMinuteWindow();
    const first = await v1(key.key, "/v1/key");
    expect(first.headers.get("RateLimit-Policy")).toBe('"key";q=100;w=60, "account";q=20;w=60');
    expect(first.headers.get("RateLimit")).toMatch(/^"key";r=99;t=\d+, "account";r=19;t=\d+$/);
    expect(first.headers.get("X-RateLimit-Limit")).toBe("20");
    expect(first.headers.get("X-RateLimit-Remaining")).toBe("19");
  });

  it("a 429 says which limit was hit, and a refused request leaves no count on the other", async () => {
    const owner = newUserId();
    const small = await issueKey(owner, ["projects:read"], { rateLimit: 10 });
    const other = await issueKey(owner, ["projects:read"], { rateLimit: 10 });
    await exports.default.setAccountLimit(owner, 15);
    inOneMinuteWindow();
    for (let i = 0; i < 10; i++) expect((await v1(small.key, "/v1/key")).status).toBe(200);
    const byKey = await v1(small.key, "/v1/key");
    expect((await expectProblem(byKey, 429, "rate_limited")).detail as string).toMatch(/key allows 10/);
    // The key's refusals did not spend the account: the other key still has 5 of the account's 15.
    for (let i = 0; i < 5; i++) expect((await v1(other.key, "/v1/key")).status).toBe(200);
    const byAccount = await v1(other.key, "/v1/key");
    const body = await expectProblem(byAccount, 429, "rate_limited");
    expect(body.detail).toMatch(/account allows 15/);
    expect(byAccount.headers.get("X-RateLimit-Limit")).toBe("15");
    expect(Number(byAccount.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  });

  it("a changed account limit is in force on the next request, up and down", async () => {
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"], { rateLimit: 1000 });
    inOneMinuteWindow();
    for (let i = 0; i < 3; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await exports.default.setAccountLimit(owner, 10);
    for (let i = 0; i < 7; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect((await v1(key.key, "/v1/key")).status).toBe(429);
    expect(await exports.default.setAccountLimit(owner, null)).toEqual({
      ok: true,
      rateLimit: 2000,
      source: "default",
    });
    const raised = await v1(key.key, "/v1/key");
    expect(raised.status).toBe(200);
    expect(raised.headers.get("RateLimit-Policy")).toContain('"account";q=2000;w=60');
  });

  // Single-primary only: under the leased topology the account's budget is a lease, not this window.
  it.skipIf(leasedRun)(
    "the window the check script counts is the library's own: @upstash/ratelimit reads the same count",
    async () => {
      const owner = newUserId();
      const key = await issueKey(owner, ["projects:read"], { rateLimit: 1000 });
      await exports.default.setAccountLimit(owner, 50);
      inOneMinuteWindow();
      for (let i = 0; i < 7; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
      const library = slidingWindow(redis(), LIMITER_PREFIX.account, 50);
      expect((await library.getRemaining(owner)).remaining).toBe(43);
      // And the library's own count (a refund path uses it) is what the next request sees.
      await library.limit(owner, { rate: 40 });
      const next = await v1(key.key, "/v1/key");
      expect(next.headers.get("RateLimit")).toContain('"account";r=2;');
    },
  );

  it("setAccountLimit refuses bad arguments with invalid_request", async () => {
    for (const limit of [0, 9, 1_000_001, 1.5, "100", undefined]) {
      expect(await exports.default.setAccountLimit(newUserId(), limit as never)).toMatchObject({
        ok: false,
        code: "invalid_request",
      });
    }
    expect(await exports.default.setAccountLimit("" as never, 100)).toMatchObject({
      ok: false,
      code: "invalid_request",
    });
  });
});

describe("the warm-key budget with the account limit and usage counting on", () => {
  it("1 Upstash request, 0 Neon, 2 Redis commands (the key's limit; the check script with the account)", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    await v1(key.key, "/v1/key");
    await upstashCommand("SET", lastUsedGateKey(key.id), "1", "EX", "60");
    await regionSyncedNow();
    const warm = await countRequests(() => v1(key.key, "/v1/key"));
    expect(warm.result.status).toBe(200);
    expect({ upstash: warm.upstash, neon: warm.neon, commands: warm.commands }).toEqual(
      // Leased: the region's one request of 3 (both leases, the check script), then usage on the primary.
      leasedRun ? { upstash: 2, neon: 0, commands: 4 } : { upstash: 1, neon: 0, commands: 2 },
    );
    if (leasedRun)
      expect({ region: warm.upstashRegion, commands: warm.regionCommands }).toEqual({
        region: 1,
        commands: 3,
      });
  });
});

describe("no command whose answer the isolate knows", () => {
  it("a last-used gate this isolate opened is not asked again while it lasts", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const first = await countRequests(() => v1(key.key, "/v1/key"));
    expect(first.neon).toBe(2); // the cold row and the last-used write the opened gate allowed
    await upstashCommand("DEL", lastUsedGateKey(key.id));
    await regionSyncedNow();
    const second = await countRequests(() => v1(key.key, "/v1/key"));
    expect(second.result.status).toBe(200);
    expect({ upstash: second.upstash, neon: second.neon, commands: second.commands }).toEqual(
      leasedRun ? { upstash: 2, neon: 0, commands: 4 } : { upstash: 1, neon: 0, commands: 2 },
    );
    expect(await upstashCommand("EXISTS", lastUsedGateKey(key.id))).toBe(0);
  });

  it("the first 429 the limiter answers costs one more request of 2 commands; later ones 1 request of 1", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    await v1(key.key, "/v1/key");
    await upstashCommand("SET", lastUsedGateKey(key.id), "1", "EX", "120");
    inOneMinuteWindow();
    await regionSyncedNow();
    for (let i = 0; i < 10; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
    // The limiter refuses: the account's count is given back and the usage moved from ok to limited.
    // Leased: the region's request of 3, the refused grant (and the batch beside it) on the primary,
    // the account's lease given back in the region, usage on the primary.
    const first = await countRequests(() => v1(key.key, "/v1/key"));
    await expectProblem(first.result, 429, "rate_limited");
    expect({ upstash: first.upstash, neon: first.neon, commands: first.commands }).toEqual(
      leasedRun ? { upstash: 4, neon: 0, commands: 7 } : { upstash: 2, neon: 0, commands: 4 },
    );
    // Known blocked: the key's limit is answered here; the script reads the account, marker and counts usage.
    // Leased: the account's lease is only read, beside the check script; usage on the primary.
    const later = await countRequests(() => v1(key.key, "/v1/key"));
    await expectProblem(later.result, 429, "rate_limited");
    expect({ upstash: later.upstash, commands: later.commands }).toEqual(
      leasedRun ? { upstash: 2, commands: 3 } : { upstash: 1, commands: 1 },
    );
  });
});

describe("one pipeline per request", () => {
  it("two concurrent key checks never share a pipeline: 2 Upstash requests of 2 commands each", async () => {
    const [a, b] = await Promise.all([
      issueKey(newUserId(), ["projects:read"]),
      issueKey(newUserId(), ["projects:read"]),
    ]);
    for (const key of [a, b]) {
      await v1(key.key, "/v1/key");
      await upstashCommand("SET", lastUsedGateKey(key.id), "1", "EX", "60");
    }
    await regionSyncedNow();
    const both = await countRequests(() => Promise.all([v1(a.key, "/v1/key"), v1(b.key, "/v1/key")]));
    expect(both.result.map((r) => r.status)).toEqual([200, 200]);
    if (leasedRun)
      expect({ region: both.upstashRegion, commands: both.regionCommands }).toEqual({
        region: 2,
        commands: 6,
      });
    else expect({ upstash: both.upstash, commands: both.commands }).toEqual({ upstash: 2, commands: 4 });
  });
});

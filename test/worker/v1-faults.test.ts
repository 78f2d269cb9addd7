/** The failure policy (docs/DESIGN.md#failure-policy): Upstash or Neon unavailable. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { resetLeaseMemory } from "../../src/limits/leased-window";
import { upstashBreaker } from "../../src/verify/isolate-state";
import { asUser, expectProblem, newUserId } from "../support/http";
import { regionSyncedNow } from "../support/region";
import { countRequests, leasedRun } from "../support/stack";
import { issueKey, setFault, v1 } from "../support/v1";

afterEach(async () => {
  await setFault("upstash", "none");
  await setFault("neon", "none");
  upstashBreaker.reset();
  resetLeaseMemory();
  vi.useRealTimers();
});

describe("Upstash unavailable", () => {
  it("warm keys are served with the limit failing open, reporting the key's own limit; no 5xx storm", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 25 });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await setFault("upstash", "hang");

    const first = await v1(key.key, "/v1/key"); // times out after 500 ms and opens the breaker
    expect(first.status).toBe(200);
    expect(first.headers.get("X-RateLimit-Limit")).toBe("25");

    const burst = await countRequests(() =>
      Promise.all(Array.from({ length: 20 }, () => v1(key.key, "/v1/key"))),
    );
    expect(burst.result.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(burst.upstash).toBe(0); // the breaker skips Upstash
    expect(burst.neon).toBe(0); // confirmed moments ago: trusted from the cache
  });

  it("a cached key unconfirmed for over 10 s is re-read from Neon", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await setFault("upstash", "hang");
    expect((await v1(key.key, "/v1/key")).status).toBe(200);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11_000);
    upstashBreaker.trip(Date.now()); // still failing: keep Upstash skipped at the new time
    const later = await countRequests(() => v1(key.key, "/v1/key"));
    expect(later.result.status).toBe(200);
    expect({ neon: later.neon, upstash: later.upstash }).toEqual({ neon: 1, upstash: 0 });
  });

  it("a revocation already marked still holds while Upstash is down", async () => {
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect((await asUser(owner, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
    await setFault("upstash", "hang");
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
  });

  it("limits resume once Upstash is back", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    // "error", not "hang": a held request would reach Redis late and blur the count below.
    await setFault("upstash", "error");
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await setFault("upstash", "none");
    upstashBreaker.reset();
    await regionSyncedNow();
    const back = await countRequests(() => v1(key.key, "/v1/key"));
    // Leased: the region's request, the grants on the primary, the batches' credit, usage.
    expect(back.upstash).toBe(leasedRun ? 4 : 1);
    expect(back.result.headers.get("X-RateLimit-Remaining")).toBe("9");
  });
});

describe("Neon unavailable", () => {
  it("warm keys are served; a cold key gets 503 with the rate-limit headers", async () => {
    const warm = await issueKey(newUserId(), ["projects:read"]);
    const cold = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(warm.key, "/v1/key")).status).toBe(200);
    await setFault("neon", "error");
    expect((await v1(warm.key, "/v1/key")).status).toBe(200);
    const refused = await v1(cold.key, "/v1/key");
    await expectProblem(refused, 503, "service_unavailable");
    expect(refused.headers.get("X-RateLimit-Reset")).not.toBeNull();
    await setFault("neon", "none");
    expect((await v1(cold.key, "/v1/key")).status).toBe(200);
  });

  it("a route's own query failing is a 503, not a 500", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await setFault("neon", "error");
    const response = await v1(key.key, "/v1/projects");
    await expectProblem(response, 503, "service_unavailable");
  });
});

describe("faults under load", () => {
  it("Upstash stops while 200 requests flow: no 5xx, marked revocations hold; limits resume after", async () => {
    const owner = newUserId();
    const keys = await Promise.all(
      Array.from({ length: 4 }, () => issueKey(owner, ["projects:read"], { rateLimit: 1000 })),
    );
    const revoked = await issueKey(owner, ["projects:read"]);
    for (const key of [...keys, revoked]) expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect((await asUser(owner, "DELETE", `/api/keys/${revoked.id}`)).status).toBe(204);
    expect((await v1(revoked.key, "/v1/key")).status).toBe(401);

    const flowing = Array.from({ length: 200 }, (_, i) =>
      v1((keys[i % keys.length] as { key: string }).key, "/v1/key"),
    );
    const revokedDuring = Array.from({ length: 20 }, () => v1(revoked.key, "/v1/key"));
    await setFault("upstash", "hang");
    const statuses = (await Promise.all(flowing)).map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect((await Promise.all(revokedDuring)).map((r) => r.status)).toEqual(Array(20).fill(401));
    await expectProblem(await v1(revoked.key, "/v1/key"), 401, "key_revoked");

    await setFault("upstash", "none");
    upstashBreaker.reset();
    await regionSyncedNow();
    const resumed = await countRequests(() => v1((keys[0] as { key: string }).key, "/v1/key"));
    if (leasedRun) expect(resumed.upstashRegion).toBeGreaterThanOrEqual(1);
    else expect(resumed.upstash).toBe(1);
    expect(Number(resumed.result.headers.get("X-RateLimit-Remaining"))).toBeLessThan(1000);
  });

  it("Neon stops while 200 requests flow: warm keys served, cold ones 503, no half-written rows; then normal", async () => {
    const owner = newUserId();
    const warm = await issueKey(owner, ["projects:read"], { rateLimit: 1000 });
    const cold = await issueKey(owner, ["projects:read"]);
    expect((await v1(warm.key, "/v1/key")).status).toBe(200);
    await setFault("neon", "error");
    const [warmAnswers, coldAnswers, create] = await Promise.all([
      Promise.all(Array.from({ length: 200 }, () => v1(warm.key, "/v1/key"))),
      Promise.all(Array.from({ length: 5 }, () => v1(cold.key, "/v1/key"))),
      asUser(owner, "POST", "/api/keys", { name: "during outage", permissions: ["projects:read"] }),
    ]);
    expect(warmAnswers.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(coldAnswers.map((r) => r.status)).toEqual(Array(5).fill(503));
    await expectProblem(create, 503, "service_unavailable");
    await setFault("neon", "none");
    const list = (await (await asUser(owner, "GET", "/api/keys")).json()) as { data: { name: string }[] };
    expect(list.data.map((k) => k.name).sort()).toEqual(["test key", "test key"]);
    expect((await v1(cold.key, "/v1/key")).status).toBe(200);
  });
});

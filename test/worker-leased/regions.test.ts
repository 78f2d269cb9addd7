/**
 * What only the leased topology does (docs/DESIGN.md#regions): a region's check answers from its
 * own database, its copy of the markers is trusted only while it has synced within the last second,
 * and the leases never let two regions admit more than the key's limit together. Every other
 * key-check suite also runs under this topology (the `worker-leased` project).
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MARKER_LOG_KEY, markerKey, REGION_SYNC_CLAIM_KEY, REGION_SYNC_KEY } from "../../src/keys/keyspace";
import { applyToCopy } from "../../src/keys/marker-sync";
import { resetLeaseMemory } from "../../src/limits/leased-window";
import { createRedis } from "../../src/redis/client";
import { upstashBreaker } from "../../src/verify/isolate-state";
import { asUser, call, expectProblem, newUserId, ORIGIN, workerFetch } from "../support/http";
import { countRequests, stack } from "../support/stack";
import { freshIp, issueKey, regionUpstashCommand, setFault, upstashCommand, v1 } from "../support/v1";

const regionRedis = () =>
  createRedis({ redis: { url: stack.regionUpstashUrl ?? "", token: stack.regionUpstashToken ?? "" } });
const regionCommand = regionUpstashCommand;

/** Time stands still (Date only), so that no sync falls due unless a test moves the clock. */
function freezeTime(): number {
  const now = Date.now();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(now);
  return now;
}

afterEach(async () => {
  vi.useRealTimers();
  await setFault("upstash", "none");
  await setFault("neon", "none");
  upstashBreaker.reset();
  resetLeaseMemory();
});

describe("leased: a region's check", () => {
  it("a warm key costs one request of three commands to the region's database; usage goes to the primary after", async () => {
    freezeTime();
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 1000 });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    const warm = await countRequests(() => v1(key.key, "/v1/key"));
    expect(warm.result.status).toBe(200);
    expect(warm.result.headers.get("X-RateLimit-Remaining")).toBe("997");
    expect({ region: warm.upstashRegion, commands: warm.regionCommands, neon: warm.neon }).toEqual({
      region: 1,
      commands: 3,
      neon: 0,
    });
    expect(warm.upstashPrimary).toBe(1); // the usage count, in the background
  });

  it("the writer logs every marker write on the primary and writes the region's copy at once", async () => {
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect((await asUser(owner, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    expect(await regionCommand("GET", markerKey(key.id))).toBe("revoked");
    const log = (await upstashCommand("XREVRANGE", MARKER_LOG_KEY, "+", "-", "COUNT", 5)) as [
      string,
      string[],
    ][];
    const fields = log.flatMap(([, f]) => f);
    expect(fields.join(" ")).toContain(`${key.id} revoked`);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
  });

  it("a copy that missed a revocation is trusted for at most a second after its last sync, then Neon decides and the sync repairs it", async () => {
    const start = freezeTime();
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    const version = await regionCommand("GET", markerKey(key.id));
    expect((await asUser(owner, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    await regionCommand("SET", markerKey(key.id), String(version)); // the direct write was lost

    // Within the second the copy speaks for the log: the bound the topology promises, not more.
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    vi.setSystemTime(start + 1001);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
    expect(await regionCommand("GET", markerKey(key.id))).toBe("revoked");
  });

  it("a region cut off from the primary refuses after a second instead of trusting its copy", async () => {
    const start = freezeTime();
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 1000 });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await setFault("upstash-primary", "error");
    await setFault("neon", "error");
    vi.setSystemTime(start + 500);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    vi.setSystemTime(start + 1500);
    await expectProblem(await v1(key.key, "/v1/key"), 503, "service_unavailable");
  });

  it("with only the primary unreachable, an empty lease fails the limit open and the key is checked against Neon", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    await setFault("upstash-primary", "error");
    const answer = await v1(key.key, "/v1/key");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("X-RateLimit-Limit")).toBe("10");
  });

  it("a region and the home region together admit no more than the key's limit", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 20 });
    const [region] = JSON.parse(env.UPSTASH_REGIONS ?? "[]") as { url: string; token: string }[];
    const regions = JSON.stringify([{ ...region, name: "eu", continents: ["EU"] }]);
    const from = (continent: string) =>
      workerFetch(
        new Request(`${ORIGIN}/v1/key`, {
          headers: { Authorization: `Bearer ${key.key}`, "CF-Connecting-IP": freshIp() },
          cf: { continent },
        }),
        { UPSTASH_REGIONS: regions },
      );
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await from(i % 2 === 0 ? "EU" : "NA")).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
  });
});

describe("leased: a copy that has not synced for a minute", () => {
  it("starts over at the log's end with a new epoch (what happened meanwhile may not be in the log)", async () => {
    const start = freezeTime();
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await regionCommand("HSET", REGION_SYNC_KEY, "stamp", String(start - 61_000));
    await regionCommand("DEL", REGION_SYNC_CLAIM_KEY); // the first check's claim may still stand
    expect((await v1(key.key, "/v1/key")).status).toBe(200); // claims the sync, which starts over
    expect(Number(await regionCommand("HGET", REGION_SYNC_KEY, "epoch"))).toBe(start);
    expect(Number(await regionCommand("HGET", REGION_SYNC_KEY, "stamp"))).toBe(start);
  });
});

describe("leased: health", () => {
  it("GET /health also asks the database of the request's region, and names it when it fails", async () => {
    const ok = await call("/health");
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { checks: Record<string, unknown> }).checks.regionRedis).toMatchObject({
      ok: true,
      region: "test-region",
    });
    await setFault("upstash-region", "error");
    const failed = await call("/health");
    await expectProblem(failed, 503, "service_unavailable");
  });
});

describe("leased: the copy's log is applied monotonically", () => {
  it("a version never goes down, revoked is final, a reader's repair never overwrites changing, the cursor only advances", async () => {
    const redis = regionRedis();
    const id = crypto.randomUUID();
    const now = Date.now();
    const marker = () => regionCommand("GET", markerKey(id));
    const apply = (value: string) => applyToCopy(redis, [{ keyId: id, value, atMs: now }]);

    await apply("5");
    await apply("3");
    expect(await marker()).toBe("5");
    await apply("changing");
    await applyToCopy(redis, [{ keyId: id, value: "raise:6", atMs: 0 }]);
    expect(await marker()).toBe("changing");
    await apply("7");
    expect(await marker()).toBe("7");
    await apply("revoked");
    await apply("9");
    await apply("cleared");
    expect(await marker()).toBe("revoked");

    const before = await regionCommand("HGET", REGION_SYNC_KEY, "cursor");
    await applyToCopy(redis, [], { cursor: "9999999999999-0" });
    await applyToCopy(redis, [], { cursor: "1-0" });
    expect(await regionCommand("HGET", REGION_SYNC_KEY, "cursor")).toBe("9999999999999-0");
    // Put the real cursor back: the region's later syncs read the log from it.
    await (before === null
      ? regionCommand("HDEL", REGION_SYNC_KEY, "cursor")
      : regionCommand("HSET", REGION_SYNC_KEY, "cursor", String(before)));
  });

  it("a changing marker older than its 30 s is not applied", async () => {
    const id = crypto.randomUUID();
    await applyToCopy(regionRedis(), [{ keyId: id, value: "changing", atMs: Date.now() - 31_000 }]);
    expect(await regionCommand("GET", markerKey(id))).toBeNull();
  });
});

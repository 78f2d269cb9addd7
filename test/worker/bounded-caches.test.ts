/**
 * The per-isolate caches are bounded in entries (docs/DESIGN.md#the-key-check): a flood of distinct
 * keys or clients can fill them, never grow them — and in time: an ended entry is never used and
 * leaves on the next write. Each is tested through its own public methods.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { LIMITER_PREFIX } from "../../src/keys/keyspace";
import {
  ALGORITHMS_MAX,
  algorithmCount,
  BlockCache,
  limiterCache,
  slidingWindow,
} from "../../src/limits/sliding-window";
import { createRedis } from "../../src/redis/client";
import { blockedClients, ExpiringMap, keyCache, openedGates } from "../../src/verify/isolate-state";
import { config } from "../support/stores";

afterEach(() => {
  vi.useRealTimers();
});

describe("ExpiringMap (key cache, blocked clients, opened gates)", () => {
  const now = 1_000_000;

  it("keeps at most its bound: the oldest entry leaves first", () => {
    const map = new ExpiringMap<string, number>(3);
    for (const [i, key] of ["a", "b", "c", "d", "e"].entries()) map.set(key, i, now + 60_000, now);
    expect(["a", "b", "c", "d", "e"].map((key) => map.get(key, now))).toEqual([
      undefined,
      undefined,
      2,
      3,
      4,
    ]);
  });

  it("a re-set entry counts as new, so the next eviction takes the one set longest ago", () => {
    const map = new ExpiringMap<string, string>(2);
    map.set("a", "1", now + 60_000, now);
    map.set("b", "1", now + 60_000, now);
    map.set("a", "2", now + 60_000, now);
    map.set("c", "1", now + 60_000, now);
    expect([map.get("a", now), map.get("b", now), map.get("c", now)]).toEqual(["2", undefined, "1"]);
  });

  it("a flood of 50,000 distinct entries leaves exactly the bound's newest", () => {
    const map = new ExpiringMap<number, number>(1_000);
    for (let i = 0; i < 50_000; i++) map.set(i, i, now + 60_000, now);
    expect(map.size).toBe(1_000);
    expect(map.get(48_999, now)).toBeUndefined();
    expect(map.get(49_000, now)).toBe(49_000);
  });

  it("never returns an entry at or after its end, and drops it when asked", () => {
    const map = new ExpiringMap<string, string>(10);
    map.set("a", "1", now + 1_000, now);
    expect(map.get("a", now + 999)).toBe("1");
    expect(map.get("a", now + 1_000)).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it("is bounded in time: the next write drops every ended entry ahead of a live one", () => {
    const map = new ExpiringMap<number, true>(10_000);
    for (let i = 0; i < 5_000; i++) map.set(i, true, now + 60_000, now);
    map.set(-1, true, now + 61_000 + 60_000, now + 61_000);
    expect(map.size).toBe(1);
  });

  it("the key check's per-isolate maps are such maps, each of at most 10,000 entries", () => {
    for (const cache of [keyCache, blockedClients, openedGates]) {
      expect(cache).toBeInstanceOf(ExpiringMap);
      expect(cache.maxEntries).toBeLessThanOrEqual(10_000);
    }
  });
});

describe("BlockCache (the limiter's ephemeral cache)", () => {
  const id = (i: number) => `${LIMITER_PREFIX.failedAuth}:client-${i}`;

  it("is bounded in entries and drops entries whose block has ended", () => {
    const cache = new BlockCache(1_000);
    const now = Date.now();
    for (let i = 0; i < 30_000; i++) cache.set(id(i), now + 60_000);
    expect(cache.size).toBe(1_000);
    expect(cache.has(id(29_999))).toBe(true);
    expect(cache.has(id(0))).toBe(false);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now + 61_000);
    cache.set(`${LIMITER_PREFIX.key}:one-more`, Date.now() + 60_000);
    expect([...cache.keys()]).toEqual([`${LIMITER_PREFIX.key}:one-more`]);
  });

  it("the shared cache every limiter uses is such a bounded cache", () => {
    expect(limiterCache).toBeInstanceOf(BlockCache);
    expect(limiterCache.maxEntries).toBeLessThanOrEqual(10_000);
  });
});

describe("the limiter algorithms (one per limit value)", () => {
  it("are remembered for at most ALGORITHMS_MAX distinct limits", () => {
    const redis = createRedis(config());
    for (let limit = 1; limit <= ALGORITHMS_MAX + 500; limit++) slidingWindow(redis, "vk:rl:test", limit);
    expect(algorithmCount()).toBeGreaterThan(0);
    expect(algorithmCount()).toBeLessThanOrEqual(ALGORITHMS_MAX);
  });
});

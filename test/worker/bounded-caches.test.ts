/**
 * The per-isolate caches are bounded in entries (docs/DESIGN.md#the-key-check): a flood of distinct
 * keys or clients can fill them, never grow them. Each is tested through its own public methods.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { LIMITER_PREFIX } from "../../src/keys/keyspace";
import { BlockCache, limiterCache } from "../../src/limits/sliding-window";
import { BoundedMap, blockedClients, keyCache } from "../../src/verify/isolate-state";

afterEach(() => {
  vi.useRealTimers();
});

describe("BoundedMap (key cache, blocked clients)", () => {
  it("keeps at most its bound: the oldest entry leaves first", () => {
    const map = new BoundedMap<string, number>(3);
    for (const [i, key] of ["a", "b", "c", "d", "e"].entries()) map.set(key, i);
    expect(["a", "b", "c", "d", "e"].map((key) => map.get(key))).toEqual([undefined, undefined, 2, 3, 4]);
  });

  it("a re-set entry counts as new, so the next eviction takes the one set longest ago", () => {
    const map = new BoundedMap<string, string>(2);
    map.set("a", "1");
    map.set("b", "1");
    map.set("a", "2");
    map.set("c", "1");
    expect([map.get("a"), map.get("b"), map.get("c")]).toEqual(["2", undefined, "1"]);
  });

  it("a flood of 50,000 distinct entries leaves exactly the bound's newest", () => {
    const map = new BoundedMap<number, number>(1_000);
    for (let i = 0; i < 50_000; i++) map.set(i, i);
    let present = 0;
    for (let i = 0; i < 50_000; i++) if (map.get(i) !== undefined) present++;
    expect(present).toBe(1_000);
    expect(map.get(48_999)).toBeUndefined();
    expect(map.get(49_000)).toBe(49_000);
  });

  it("the key cache and the blocked-client list of the key check are such bounded maps", () => {
    for (const cache of [keyCache, blockedClients]) {
      expect(cache).toBeInstanceOf(BoundedMap);
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

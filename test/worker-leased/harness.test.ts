/**
 * The leased run's harness itself (vitest.config.ts `worker-leased`, test/setup/global-setup.ts):
 * the Worker sees the topology and its region, the region is a server and a Redis database of its
 * own, and the helpers fault and count both Upstash servers.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/env";
import { countRequests, requestTotal, serverCounts, stack } from "../support/stack";
import { leased } from "../support/topology";
import { regionUpstashCommand, setFault, upstashCommand } from "../support/v1";

const faultOf = async (base: string | undefined) =>
  ((await (await fetch(`${base}/__local/fault`)).json()) as { mode: string }).mode;

afterEach(async () => {
  await setFault("upstash", "none");
});

describe("the leased test run", () => {
  it("gives the Worker the leased topology with one region on the region's server", () => {
    expect(leased).toBe(true);
    expect(loadConfig(env).keyCheck).toEqual({
      topology: "leased",
      regions: [
        {
          name: "test-region",
          continents: ["*"],
          url: stack.regionUpstashUrl,
          token: stack.regionUpstashToken,
        },
      ],
    });
  });

  it("has a region server and Redis database apart from the primary's", async () => {
    expect(stack.regionUpstashUrl).toBeDefined();
    expect(stack.regionUpstashUrl).not.toBe(stack.upstashUrl);
    expect(stack.regionUpstashToken).not.toBe(stack.upstashToken);
    expect(stack.regionRedisUrl).toBeDefined();
    expect(stack.regionRedisUrl).not.toBe(stack.redisUrl);

    const key = `harness:${crypto.randomUUID()}`;
    expect(await regionUpstashCommand("SET", key, "region")).toBe("OK");
    expect(await upstashCommand("GET", key)).toBeNull();
    expect(await regionUpstashCommand("GET", key)).toBe("region");
    await regionUpstashCommand("DEL", key);
  });

  it("faults both Upstash servers as `upstash`, and one as `upstash-primary` or `upstash-region`", async () => {
    await setFault("upstash-region", "error");
    expect([await faultOf(stack.upstashUrl), await faultOf(stack.regionUpstashUrl)]).toEqual([
      "none",
      "error",
    ]);
    await setFault("upstash", "none");
    await setFault("upstash-primary", "error");
    expect([await faultOf(stack.upstashUrl), await faultOf(stack.regionUpstashUrl)]).toEqual([
      "error",
      "none",
    ]);
    await setFault("upstash", "error");
    expect([await faultOf(stack.upstashUrl), await faultOf(stack.regionUpstashUrl)]).toEqual([
      "error",
      "error",
    ]);
    await setFault("upstash", "none");
    expect([await faultOf(stack.upstashUrl), await faultOf(stack.regionUpstashUrl)]).toEqual([
      "none",
      "none",
    ]);
  });

  it("counts both Upstash servers, with the breakdown", async () => {
    const key = `harness:${crypto.randomUUID()}`;
    const counted = await countRequests(async () => {
      await upstashCommand("GET", key);
      await regionUpstashCommand("GET", key);
      await regionUpstashCommand("GET", key);
    });
    expect(counted).toMatchObject({
      neon: 0,
      upstash: 3,
      commands: 3,
      upstashPrimary: 1,
      upstashRegion: 2,
      regionCommands: 2,
    });

    const [primary, region, both] = await Promise.all([
      requestTotal("upstash-primary"),
      requestTotal("upstash-region"),
      requestTotal("upstash"),
    ]);
    expect(both).toBe(primary + region);
    expect((await serverCounts("upstash"))["/"]).toBe(
      ((await serverCounts("upstash-primary"))["/"] ?? 0) +
        ((await serverCounts("upstash-region"))["/"] ?? 0),
    );
  });
});

/** KEY_CHECK_TOPOLOGY and UPSTASH_REGIONS (docs/DESIGN.md#regions): checked once, never echoed. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, type Env, loadConfig } from "../../src/config/env";
import { type KeyCheckTopology, regionFor } from "../../src/config/regions";

const region = (name: string, continents: string[]) => ({
  name,
  continents,
  url: `http://127.0.0.1:1/${name}`,
  token: `token-of-${name}`,
});

function problemsWith(overrides: Partial<Env>): string[] {
  try {
    loadConfig({ ...env, KEY_CHECK_TOPOLOGY: undefined, UPSTASH_REGIONS: undefined, ...overrides } as Env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe("the key check's topology setting", () => {
  it("is single-primary unless set, and leased needs its regions", () => {
    expect(loadConfig({ ...env, KEY_CHECK_TOPOLOGY: undefined } as Env).keyCheck).toEqual({
      topology: "single-primary",
    });
    expect(problemsWith({ KEY_CHECK_TOPOLOGY: "leased" })).toEqual([
      "UPSTASH_REGIONS: is required by the leased topology",
    ]);
    expect(problemsWith({ KEY_CHECK_TOPOLOGY: "everywhere" })[0]).toMatch(/^KEY_CHECK_TOPOLOGY:/);
  });

  it.each([
    ["not JSON", "{"],
    ["not an array", JSON.stringify(region("eu", ["EU"]))],
    ["an unknown continent", JSON.stringify([region("eu", ["Europe"])])],
    ["no continent", JSON.stringify([region("eu", [])])],
    ["a name that is not [a-z0-9-]", JSON.stringify([region("EU West", ["EU"])])],
    ["the primary's own name", JSON.stringify([region("home", ["EU"])])],
    ["a name twice", JSON.stringify([region("eu", ["EU"]), region("eu", ["AF"])])],
    ["a continent in two regions", JSON.stringify([region("eu", ["EU"]), region("eu-2", ["EU"])])],
    ["no token", JSON.stringify([{ ...region("eu", ["EU"]), token: " " }])],
  ])("refuses UPSTASH_REGIONS with %s, naming the setting and never its value", (_, raw) => {
    const problems = problemsWith({ KEY_CHECK_TOPOLOGY: "leased", UPSTASH_REGIONS: raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^UPSTASH_REGIONS: /);
    expect(problems[0]).not.toContain("token-of");
  });
});

describe("a request's region", () => {
  const topology: KeyCheckTopology = {
    topology: "leased",
    regions: [region("eu", ["EU", "AF"]), region("ap", ["AS", "OC"])] as never,
  };

  it("is the region listing the request's continent, else the primary (home)", () => {
    expect(regionFor(topology, "AF")).toMatchObject({ home: false, name: "eu" });
    expect(regionFor(topology, "OC")).toMatchObject({ home: false, name: "ap" });
    expect(regionFor(topology, "NA")).toEqual({ home: true, name: "home" });
    expect(regionFor(topology, undefined)).toEqual({ home: true, name: "home" });
  });

  it("a region listing * takes every continent no other region lists (and requests without one)", () => {
    const withDefault: KeyCheckTopology = {
      topology: "leased",
      regions: [region("eu", ["EU"]), region("us", ["*"])] as never,
    };
    expect(regionFor(withDefault, "EU")).toMatchObject({ name: "eu" });
    expect(regionFor(withDefault, "SA")).toMatchObject({ name: "us" });
    expect(regionFor(withDefault, undefined)).toMatchObject({ name: "us" });
  });

  it("is always the primary under single-primary", () => {
    expect(regionFor({ topology: "single-primary" }, "EU")).toEqual({ home: true, name: "home" });
  });
});

/** The pure decisions of a leak report: what each reported hash calls for, and the writes. */
import { describe, expect, it } from "vitest";
import { type LeakMatch, leakVerdict } from "../../src/keys/leaks";
import { type CheckedToken, feedbackLabel, planKills } from "../../src/scanning/report";

const key = (overrides: Partial<LeakMatch> = {}): LeakMatch => ({
  id: "k1",
  hash: "current",
  previousHash: "previous",
  version: 2,
  revoked: false,
  previousInGrace: true,
  ...overrides,
});

describe("leakVerdict", () => {
  it.each([
    ["current secret of a live key", "current", key(), "revoke"],
    ["current secret of a revoked key", "current", key({ revoked: true }), "already_dead"],
    ["previous secret in its grace period", "previous", key(), "expire_previous"],
    ["previous secret past its grace period", "previous", key({ previousInGrace: false }), "already_dead"],
    ["previous secret of a revoked key", "previous", key({ revoked: true }), "already_dead"],
    ["a hash no key has", "other", key(), "unknown"],
  ])("%s → %s", (_name, hash, match, kind) => {
    expect(leakVerdict(hash, [match]).kind).toBe(kind);
  });

  it("labels: every key of ours is a true positive, anything else a false positive", () => {
    expect(feedbackLabel(leakVerdict("current", [key()]))).toBe("true_positive");
    expect(feedbackLabel(leakVerdict("current", [key({ revoked: true })]))).toBe("true_positive");
    expect(feedbackLabel(leakVerdict("previous", [key({ previousInGrace: false })]))).toBe("true_positive");
    expect(feedbackLabel(leakVerdict("other", [key()]))).toBe("false_positive");
    expect(feedbackLabel(undefined)).toBe("false_positive"); // failed the checksum: never looked up
  });
});

describe("planKills", () => {
  const token = (hash: string, url: string): CheckedToken => ({
    hash,
    plausible: true,
    report: { type: "vulk_api_key", url, source: "content" },
  });
  const verdictsFor = (...hashes: string[]) => new Map(hashes.map((h) => [h, leakVerdict(h, [key()])]));

  it("one write per key: revoking wins over ending the previous secret's grace, in either order", () => {
    for (const order of [
      ["previous", "current"],
      ["current", "previous"],
    ]) {
      const kills = planKills(
        verdictsFor(...order),
        order.map((h) => token(h, `https://github.com/${h}`)),
      );
      expect(kills).toEqual([expect.objectContaining({ kind: "revoke", keyId: "k1", hash: "current" })]);
      expect(kills[0]?.metadata).toMatchObject({ url: "https://github.com/current", source: "content" });
    }
  });

  it("a token reported twice is written once, with its first location", () => {
    const kills = planKills(verdictsFor("current"), [
      token("current", "https://a"),
      token("current", "https://b"),
    ]);
    expect(kills).toHaveLength(1);
    expect(kills[0]?.metadata).toMatchObject({ url: "https://a" });
  });

  it("unknown, dead and unchecked tokens write nothing", () => {
    const verdicts = new Map([
      ["other", leakVerdict("other", [key()])],
      ["current", leakVerdict("current", [key({ revoked: true })])],
    ]);
    expect(
      planKills(verdicts, [token("other", "u"), token("current", "u"), token("not-looked-up", "u")]),
    ).toEqual([]);
  });
});

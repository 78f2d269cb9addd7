/** The key check's scripts: each written-out SHA-1 is its script's, or every EVALSHA would miss. */
import { describe, expect, it } from "vitest";
import { CHECK_SCRIPT, CHECK_SCRIPT_SHA1 } from "../../src/keys/check-script";
import { APPLY_SCRIPT, LOG_WRITE_SCRIPT } from "../../src/keys/marker-sync";
import { usageHour } from "../../src/keys/usage";
import { GRANT_SCRIPT, SPEND_SCRIPT } from "../../src/limits/leased-window";

const sha1 = async (source: string) => {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(source));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
};

describe("the check script", () => {
  it("CHECK_SCRIPT_SHA1 is the SHA-1 of CHECK_SCRIPT", async () => {
    expect(CHECK_SCRIPT_SHA1).toBe(await sha1(CHECK_SCRIPT));
  });

  it.each([
    ["SPEND_SCRIPT", SPEND_SCRIPT],
    ["GRANT_SCRIPT", GRANT_SCRIPT],
    ["LOG_WRITE_SCRIPT", LOG_WRITE_SCRIPT],
    ["APPLY_SCRIPT", APPLY_SCRIPT],
  ])("%s carries its own SHA-1", async (_, script) => {
    expect(script.sha1).toBe(await sha1(script.source));
  });

  it("usage hours are spelled yyyymmddhh in UTC, whichever hour was spelled before", () => {
    const moments = [
      Date.UTC(2031, 0, 2, 3, 59, 59, 999),
      Date.UTC(2031, 0, 2, 4),
      Date.UTC(2031, 0, 2, 3),
      Date.UTC(1999, 11, 31, 23, 30),
    ];
    expect(moments.map(usageHour)).toEqual(["2031010203", "2031010204", "2031010203", "1999123123"]);
  });
});

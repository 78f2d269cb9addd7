/** The key check's script: its written-out SHA-1 is the script's, or every EVALSHA would miss. */
import { describe, expect, it } from "vitest";
import { CHECK_SCRIPT, CHECK_SCRIPT_SHA1 } from "../../src/keys/check-script";
import { usageHour } from "../../src/keys/usage";

describe("the check script", () => {
  it("CHECK_SCRIPT_SHA1 is the SHA-1 of CHECK_SCRIPT", async () => {
    const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(CHECK_SCRIPT));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(CHECK_SCRIPT_SHA1).toBe(hex);
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

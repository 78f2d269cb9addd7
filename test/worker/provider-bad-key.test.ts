/** Which provider statuses mean "this key is no longer accepted" on use (docs/DESIGN.md#provider-keys). */
import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../../src/domain/providers";
import { isBadKeyAnswer } from "../../src/providers/bad-key";

describe("isBadKeyAnswer", () => {
  it("401 is a bad-key answer for every provider", () => {
    for (const provider of PROVIDERS) expect(isBadKeyAnswer(provider, 401)).toBe(true);
  });

  it("403 only where the provider documents it for a key: Gemini and Fireworks", () => {
    const forbidden = PROVIDERS.filter((provider) => isBadKeyAnswer(provider, 403));
    expect(forbidden).toEqual(["gemini", "fireworks"]);
  });

  it("other statuses never are (a 400, a 404, a 429, a 5xx belong to the request)", () => {
    for (const provider of PROVIDERS)
      for (const status of [200, 400, 402, 404, 408, 429, 500, 502, 503])
        expect(isBadKeyAnswer(provider, status)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import type { MasterKey } from "../../src/config/env";
import { envelopeVersion, open, seal } from "../../src/crypto/envelope";

const masterKey = (version: number): MasterKey => ({
  version,
  bytes: crypto.getRandomValues(new Uint8Array(32)),
});
const v1 = masterKey(1);
const v2 = masterKey(2);
const context = { ownerId: "user_1", provider: "openai", baseUrl: null };

function flipBit(envelope: string, part: 1 | 2, index: number): string {
  const parts = envelope.split(".");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const text = parts[part] as string;
  const char = text[index] as string;
  const flipped = alphabet[alphabet.indexOf(char) ^ 1] as string;
  parts[part] = text.slice(0, index) + flipped + text.slice(index + 1);
  return parts.join(".");
}

describe("provider-key envelopes", () => {
  it("seal to v<N>.<iv>.<ciphertext‖tag> and open again", async () => {
    const sealed = await seal("sk-secret-value", context, [v1]);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("secret");
    expect(envelopeVersion(sealed)).toBe(1);
    expect(await open(sealed, context, [v1])).toBe("sk-secret-value");
  });

  it("use a fresh IV for every seal", async () => {
    const a = await seal("same", context, [v1]);
    const b = await seal("same", context, [v1]);
    expect(a.split(".")[1]).not.toBe(b.split(".")[1]);
    expect(a).not.toBe(b);
  });

  it("any flipped bit of IV, ciphertext or tag does not open", async () => {
    const sealed = await seal("sk-secret-value", context, [v1]);
    const body = sealed.split(".")[2] as string;
    const positions: [1 | 2, number][] = [
      [1, 0],
      [1, 15],
      [2, 0],
      [2, Math.floor(body.length / 2)],
      [2, body.length - 2], // inside the tag
    ];
    for (const [part, index] of positions)
      expect(await open(flipBit(sealed, part, index), context, [v1])).toBeNull();
  });

  it("a ciphertext moved to another owner, provider or URL does not open", async () => {
    const sealed = await seal(
      "sk-secret-value",
      { ...context, provider: "custom", baseUrl: "https://a.example/v1" },
      [v1],
    );
    const moved = [
      { ownerId: "user_2", provider: "custom", baseUrl: "https://a.example/v1" },
      { ownerId: "user_1", provider: "openai", baseUrl: "https://a.example/v1" },
      { ownerId: "user_1", provider: "custom", baseUrl: "https://b.example/v1" },
      { ownerId: "user_1", provider: "custom", baseUrl: null },
    ];
    for (const to of moved) expect(await open(sealed, to, [v1])).toBeNull();
  });

  it("the highest version seals; every listed version opens; an unlisted one does not", async () => {
    const old = await seal("k", context, [v1]);
    expect(await open(old, context, [v2, v1])).toBe("k");
    const fresh = await seal("k", context, [v2, v1]);
    expect(envelopeVersion(fresh)).toBe(2);
    expect(await open(fresh, context, [v1])).toBeNull();
    expect(await open("garbage", context, [v1])).toBeNull();
    expect(await open("v1.@@.@@", context, [v1])).toBeNull();
  });
});

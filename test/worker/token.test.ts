import { describe, expect, it } from "vitest";
import {
  crc32,
  generateKey,
  hashKey,
  KEY_PATTERN,
  keyStart,
  maskedKey,
  parseKey,
  randomBase62,
  toBase62,
} from "../../src/keys/token";

// Expected values computed independently with Python's zlib.crc32 (see docs/DESIGN.md#token-format).
const VECTORS = [
  ["vk_sk_000000000000000000000000000000004gACZF", 4287569033],
  ["vk_sk_abcdefghijklmnopqrstuvwxyzABCDEF18ZtQ3", 1042898035],
  ["vk_sk_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz36km7H", 2848204563],
  ["vk_sk_a7f9K2mQ8xLp3RtY6vWn1ZcB5dHg0sJe42rMzz", 3706803795],
] as const;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("public key token format", () => {
  it("CRC-32 matches zlib, including the standard check value", () => {
    expect(crc32("123456789")).toBe(3421780262);
    for (const [key, crc] of VECTORS) expect(crc32(key.slice(0, 38))).toBe(crc);
  });

  it("known vectors parse, and their checksum is base62 of the CRC padded to 6", () => {
    for (const [key, crc] of VECTORS) {
      expect(parseKey(key)).toEqual({ ok: true, key });
      expect(key.slice(38)).toBe(toBase62(crc, 6));
    }
    expect(toBase62(0, 6)).toBe("000000");
    expect(toBase62(61, 6)).toBe("00000z");
    expect(toBase62(62, 6)).toBe("000010");
  });

  it("generated keys are 44 chars, match the pattern and pass their own checksum", () => {
    for (let i = 0; i < 200; i++) {
      const key = generateKey();
      expect(key).toHaveLength(44);
      expect(key).toMatch(KEY_PATTERN);
      expect(parseKey(key).ok).toBe(true);
    }
  });

  it("the checksum rejects every single-character change", () => {
    const [key] = VECTORS[3];
    let changed = 0;
    for (let i = 6; i < key.length; i++) {
      for (const c of ALPHABET) {
        if (c === key[i]) continue;
        const mutated = key.slice(0, i) + c + key.slice(i + 1);
        expect(parseKey(mutated)).toEqual({ ok: false, reason: "bad_checksum" });
        changed++;
      }
    }
    expect(changed).toBe(38 * 61);
  });

  it("malformed candidates are told apart from bad checksums", () => {
    for (const bad of [
      "",
      "vk_sk_",
      VECTORS[0][0].slice(0, 43),
      `${VECTORS[0][0]}0`,
      `vk_pk_${"0".repeat(38)}`,
    ]) {
      expect(parseKey(bad)).toEqual({ ok: false, reason: "malformed" });
    }
    expect(parseKey(`${VECTORS[0][0].slice(0, 43)}-`)).toEqual({ ok: false, reason: "malformed" });
  });

  it("random characters use the alphabet uniformly (bytes ≥ 248 are rejected, not folded)", () => {
    // A source of only 247s and 248s: 248 would map to "0" under a plain modulo; it must be skipped.
    const skewed = (bytes: Uint8Array) => bytes.map((_, i) => (i % 2 === 0 ? 248 : 247));
    expect(randomBase62(10, skewed)).toBe("z".repeat(10));

    const counts = new Map<string, number>();
    const draws = 62 * 2000;
    for (const c of randomBase62(draws)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Each symbol expects 2000; a ±15% band is > 6 standard deviations wide.
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(300);
  });

  it("display form is the prefix plus 4 body characters", () => {
    const key = VECTORS[3][0];
    expect(keyStart(key)).toBe("vk_sk_a7f9");
    expect(maskedKey(keyStart(key))).toBe("vk_sk_a7f9...");
  });

  it("the stored hash is SHA-256 hex of the whole key", async () => {
    expect(await hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await hashKey(VECTORS[0][0])).toMatch(/^[0-9a-f]{64}$/);
  });
});

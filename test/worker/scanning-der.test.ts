/** ECDSA signature encodings: GitHub's DER ↔ WebCrypto's P1363 (r || s). */
import { describe, expect, it } from "vitest";
import { derToP1363, p1363ToDer } from "../../src/scanning/ecdsa-der";
import { importPemKey } from "../../src/scanning/github-keys";

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

// Made with OpenSSL (`openssl dgst -sha256 -sign`), independently of this code; r and s read off
// `openssl asn1parse`. The first has r and s with the high bit set (33-byte INTEGERs), the second an s
// of 31 bytes (its P1363 form starts with a zero byte).
const OPENSSL_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENDBtMWCAzMlkpipGLreTV2D2X3Z8
YkE5LWWB1Aoqw5lS6kLCgTSiNgIG6QhWMGNu41fE34vXZt/t/3bDg4uO7w==
-----END PUBLIC KEY-----`;
const OPENSSL_MESSAGE =
  '[{"token":"vk_sk_example","type":"vulk_api_key","url":"https://github.com/o/r/blob/x/f.txt","source":"content"}]';
const OPENSSL_VECTORS = [
  {
    der: "MEYCIQDmXcFXNQHWy0K7kUdRIBaEYcqnATNzX6dJR9CLMhOwPQIhAIoN+8DytTsIwrd1Hg2iuqw8/nE5xyuennn2RoEsa391",
    r: "e65dc1573501d6cb42bb91475120168461caa70133735fa74947d08b3213b03d",
    s: "8a0dfbc0f2b53b08c2b7751e0da2baac3cfe7139c72b9e9e79f646812c6b7f75",
  },
  {
    der: "MEMCIA1t3RJfUhAQwQag91+/YfUYKOpGGYVv5D71GrDGP/JQAh8n/8c6TxTeVJvohvRMXAPl5b1ka69HoziSRZHyAhq3",
    r: "0d6ddd125f521010c106a0f75fbf61f51828ea4619856fe43ef51ab0c63ff250",
    s: "0027ffc73a4f14de549be886f44c5c03e5e5bd646baf47a338924591f2021ab7",
  },
];

describe("DER → P1363", () => {
  it("OpenSSL's signatures convert to r || s and verify with WebCrypto", async () => {
    const key = await importPemKey(OPENSSL_PUBLIC_KEY);
    for (const vector of OPENSSL_VECTORS) {
      const raw = derToP1363(fromBase64(vector.der));
      expect(raw && hex(raw)).toBe(vector.r + vector.s);
      const message = new TextEncoder().encode(OPENSSL_MESSAGE);
      expect(
        await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw as Uint8Array, message),
      ).toBe(true);
    }
  });

  it("P1363 → DER gives back exactly OpenSSL's bytes", () => {
    for (const vector of OPENSSL_VECTORS) {
      expect(hex(p1363ToDer(fromHex(vector.r + vector.s)))).toBe(hex(fromBase64(vector.der)));
    }
  });

  it("leading zero bytes are dropped, a high bit gets a 0x00 in front, zero stays one byte", () => {
    const r = `00007f${"11".repeat(29)}`; // two leading zero bytes: a 30-byte INTEGER
    const s = `80${"22".repeat(31)}`; // high bit set: 33 bytes with the 0x00 prefix
    const der = p1363ToDer(fromHex(r + s));
    expect(hex(der)).toBe(`3043021e7f${"11".repeat(29)}02210080${"22".repeat(31)}`);
    expect(hex(derToP1363(der) as Uint8Array)).toBe(r + s);

    const zero = "00".repeat(32);
    expect(hex(p1363ToDer(fromHex(zero + zero)))).toBe("3006020100020100");
    expect(hex(derToP1363(fromHex("3006020100020100")) as Uint8Array)).toBe(zero + zero);
  });

  it("round-trips WebCrypto's own signatures (both INTEGER forms occur)", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const lengths = new Set<number>();
    for (let i = 0; i < 64; i++) {
      const message = crypto.getRandomValues(new Uint8Array(32));
      const raw = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, message),
      );
      const der = p1363ToDer(raw);
      lengths.add(der.length);
      const back = derToP1363(der) as Uint8Array;
      expect(hex(back)).toBe(hex(raw));
      expect(
        await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, back, message),
      ).toBe(true);
    }
    expect(lengths.size).toBeGreaterThan(1);
  });
});

describe("strict DER only", () => {
  const valid = `3006020101020102`;
  it.each([
    ["empty", ""],
    ["not a SEQUENCE", `3106020101020102`],
    ["SEQUENCE length too long", `3007020101020102`],
    ["SEQUENCE length too short", `3005020101020102`],
    ["trailing byte after the SEQUENCE", `${valid}00`],
    ["long-form length", `308106020101020102`],
    ["one INTEGER only", `3003020101`],
    ["a third INTEGER", `3009020101020102020103`],
    ["not an INTEGER", `3006030101020102`],
    ["empty INTEGER", "30050200020102"],
    ["negative INTEGER", `3006020180020102`],
    ["non-minimal INTEGER (needless leading zero)", `300702020001020102`],
    ["INTEGER lengths that do not add up", "3006020201020102"],
    ["33-byte INTEGER without the sign byte", `3026022101${"11".repeat(32)}020101`],
    ["34-byte INTEGER", `302702220080${"11".repeat(32)}020101`],
  ])("rejects %s", (_name, input) => {
    expect(derToP1363(fromHex(input))).toBeNull();
  });

  it("accepts the minimal form of small values", () => {
    expect(derToP1363(fromHex(valid))).not.toBeNull();
  });
});

/** The order of P-256's base point: (r, s) and (r, n − s) are both valid signatures of a message. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const toScalar = (bytes: Uint8Array) => BigInt(`0x${hex(bytes) || "0"}`);
const fromScalar = (value: bigint) => fromHex(value.toString(16).padStart(64, "0"));

describe("high-S signatures (the decision in src/scanning/ecdsa-der.ts)", () => {
  it("are accepted like their low-S twin, and the DER reader does not normalise s", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const message = new TextEncoder().encode(OPENSSL_MESSAGE);
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, message),
    );
    const s = toScalar(raw.subarray(32));
    const twin = Uint8Array.from([...raw.subarray(0, 32), ...fromScalar(P256_ORDER - s)]);
    const [low, high] = s <= P256_ORDER / 2n ? [raw, twin] : [twin, raw];
    expect(toScalar(high.subarray(32)) > P256_ORDER / 2n).toBe(true);

    for (const form of [low, high]) {
      const parsed = derToP1363(p1363ToDer(form)) as Uint8Array;
      expect(hex(parsed)).toBe(hex(form));
      expect(
        await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, parsed, message),
      ).toBe(true);
    }
  });

  it("OpenSSL's first vector is itself high-S and verifies", () => {
    const vector = OPENSSL_VECTORS[0] as { s: string };
    expect(BigInt(`0x${vector.s}`) > P256_ORDER / 2n).toBe(true);
  });
});

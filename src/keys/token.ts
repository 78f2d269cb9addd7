/**
 * Public API key format (docs/DESIGN.md#token-format), pure:
 * `vk_sk_` + 32-char base62 body (uniform, ≈190 bits) + 6-char base62 CRC-32 of `vk_sk_<body>`.
 * The checksum lets us (and secret scanners) discard mistyped or invented keys without a lookup.
 */

export const KEY_PREFIX = "vk_sk_";
export const KEY_PATTERN = /^vk_sk_[0-9A-Za-z]{38}$/;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LENGTH = 32;
const CHECK_LENGTH = 6;
const DISPLAY_BODY_CHARS = 4;
/** Largest multiple of 62 that fits in a byte: bytes at or above it are rejected (no modulo bias). */
const UNBIASED_BYTE_LIMIT = 248;

export type ParsedKey = { ok: true; key: string } | { ok: false; reason: "malformed" | "bad_checksum" };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib's `crc32`) of an ASCII string. */
export function crc32(ascii: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) {
    crc = (CRC_TABLE[(crc ^ ascii.charCodeAt(i)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Base62, most significant digit first, left-padded with `0` to `width`. */
export function toBase62(value: number, width: number): string {
  let out = "";
  let rest = value;
  do {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(width, "0");
}

export function checksumOf(prefixAndBody: string): string {
  return toBase62(crc32(prefixAndBody), CHECK_LENGTH);
}

/** `length` characters drawn uniformly from the base62 alphabet by rejection sampling. */
export function randomBase62(
  length: number,
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
): string {
  let out = "";
  while (out.length < length) {
    // ~3% of bytes are rejected: twice the shortfall almost always finishes in one draw.
    const draw = Math.min(2 * (length - out.length), 4096);
    for (const byte of random(new Uint8Array(draw))) {
      if (byte < UNBIASED_BYTE_LIMIT && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export function generateKey(): string {
  const head = KEY_PREFIX + randomBase62(BODY_LENGTH);
  return head + checksumOf(head);
}

/** Shape and checksum only; no I/O. */
export function parseKey(candidate: string): ParsedKey {
  if (!KEY_PATTERN.test(candidate)) return { ok: false, reason: "malformed" };
  const head = candidate.slice(0, KEY_PREFIX.length + BODY_LENGTH);
  if (checksumOf(head) !== candidate.slice(head.length)) return { ok: false, reason: "bad_checksum" };
  return { ok: true, key: candidate };
}

/** What is stored to display a key: `vk_sk_` + the first 4 body characters. */
export function keyStart(key: string): string {
  return key.slice(0, KEY_PREFIX.length + DISPLAY_BODY_CHARS);
}

/** The masked form shown after creation: `vk_sk_a7f9...`. */
export function maskedKey(start: string): string {
  return `${start}...`;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const utf8 = new TextEncoder();

/** SHA-256 hex of the whole key: what is stored and looked up, never the key. On every /v1 request. */
export async function hashKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(key)));
  let hex = "";
  for (const byte of digest) hex += HEX_BYTES[byte];
  return hex;
}

/**
 * ECDSA signature encodings, pure. GitHub sends ASN.1 DER (`SEQUENCE { INTEGER r, INTEGER s }`);
 * WebCrypto verifies IEEE P1363 (`r || s`, each left-padded to the curve size).
 * Only strict DER is accepted: a signature has exactly one valid encoding.
 *
 * Low-S is deliberately NOT enforced (docs/DESIGN.md#secret-scanning): for every valid (r, s) the
 * pair (r, n − s) is valid too, and both are accepted. That malleability forges nothing — making
 * either form still takes GitHub's private key, and a replayed report only repeats a revocation
 * that already happened (the handling is idempotent). ECDSA as GitHub's libraries produce it does
 * not normalise s, so requiring s ≤ n/2 could refuse genuine reports. Nothing here keys on the
 * signature bytes (no replay cache), so the second spelling gains an attacker nothing.
 */

/** P-256: r and s are 32 bytes each. */
export const P256_SCALAR_BYTES = 32;

const SEQUENCE = 0x30;
const INTEGER = 0x02;

/** DER → P1363, or `null` when `der` is not a strict DER encoding of two positive integers that fit. */
export function derToP1363(der: Uint8Array, scalarBytes = P256_SCALAR_BYTES): Uint8Array | null {
  // Two INTEGERs of at most scalarBytes + 1 bytes keep the SEQUENCE under 128 bytes for P-256 and
  // P-384 alike, so only DER's short length form (one byte, < 0x80) is valid here.
  const length = der[1];
  if (der[0] !== SEQUENCE || length === undefined || length >= 0x80 || length !== der.length - 2) return null;
  const r = readInteger(der, 2, scalarBytes);
  if (!r) return null;
  const s = readInteger(der, r.next, scalarBytes);
  if (!s || s.next !== der.length) return null;
  const raw = new Uint8Array(2 * scalarBytes);
  raw.set(r.value, scalarBytes - r.value.length);
  raw.set(s.value, 2 * scalarBytes - s.value.length);
  return raw;
}

/** P1363 → DER (the form GitHub sends; used to build test reports). */
export function p1363ToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError("r || s must have two equal halves");
  const half = raw.length / 2;
  const r = integer(raw.subarray(0, half));
  const s = integer(raw.subarray(half));
  return Uint8Array.from([SEQUENCE, r.length + s.length, ...r, ...s]);
}

/** The magnitude of the INTEGER at `offset` (leading zero removed), and where the next element starts. */
function readInteger(
  der: Uint8Array,
  offset: number,
  scalarBytes: number,
): { value: Uint8Array; next: number } | null {
  const length = der[offset + 1];
  if (der[offset] !== INTEGER || length === undefined || length === 0 || length > scalarBytes + 1)
    return null;
  const start = offset + 2;
  const next = start + length;
  if (next > der.length) return null;
  const first = der[start] as number;
  const second = der[start + 1];
  if (first & 0x80) return null; // negative: r and s are positive
  if (first === 0 && length > 1 && second !== undefined && !(second & 0x80)) return null; // not minimal
  const value = first === 0 && length > 1 ? der.subarray(start + 1, next) : der.subarray(start, next);
  return value.length <= scalarBytes ? { value, next } : null;
}

/** A positive big-endian integer as DER INTEGER: minimal, with a 0x00 in front when the high bit is set. */
function integer(magnitude: Uint8Array): number[] {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const bytes = [...magnitude.subarray(start)];
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return [INTEGER, bytes.length, ...bytes];
}

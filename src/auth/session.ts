import { decodeBase64url, encodeBase64url } from "../lib/base64";

/**
 * Dashboard session JWTs (docs/DESIGN.md#sessions-and-browser-access): HS256 only, `aud` = vulk-keys, `exp` required and at most
 * 24 h ahead, `sub` = the user id. Several secrets verify (rotation); the first one signs.
 */

export const SESSION_AUDIENCE = "vulk-keys";
export const SESSION_MAX_TTL_SECONDS = 24 * 3600;
/** Tolerated clock difference between the signer and this Worker. */
const CLOCK_SKEW_SECONDS = 60;

export type SessionResult = { ok: true; userId: string; expiresAt: number } | { ok: false; reason: string };

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(part);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function signSession(
  userId: string,
  secret: string,
  { nowSeconds = Math.floor(Date.now() / 1000), ttlSeconds = 12 * 3600 } = {},
): Promise<string> {
  const header = encodeBase64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const claims = { sub: userId, aud: SESSION_AUDIENCE, iat: nowSeconds, exp: nowSeconds + ttlSeconds };
  const payload = encodeBase64url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    encoder.encode(`${header}.${payload}`),
  );
  return `${header}.${payload}.${encodeBase64url(new Uint8Array(signature))}`;
}

/** Verifies signature (constant time, via WebCrypto) and claims; the reason is for logs only. */
export async function verifySession(
  token: string,
  secrets: readonly string[],
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<SessionResult> {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "not a JWT" };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header?.alg !== "HS256") return { ok: false, reason: "algorithm is not HS256" };
  const signature = decodeBase64url(signaturePart);
  if (signature?.length !== 32) return { ok: false, reason: "bad signature" };

  const signed = encoder.encode(`${headerPart}.${payloadPart}`);
  let verified = false;
  for (const secret of secrets) {
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, signed)) verified = true;
  }
  if (!verified) return { ok: false, reason: "bad signature" };

  const claims = decodeJson(payloadPart);
  if (!claims) return { ok: false, reason: "unreadable claims" };
  const { sub, aud, exp, nbf } = claims;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 256)
    return { ok: false, reason: "bad sub" };
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(SESSION_AUDIENCE)) return { ok: false, reason: "wrong audience" };
  if (typeof exp !== "number" || !Number.isFinite(exp)) return { ok: false, reason: "exp missing" };
  if (exp <= nowSeconds) return { ok: false, reason: "expired" };
  if (exp > nowSeconds + SESSION_MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS)
    return { ok: false, reason: "exp too far ahead" };
  if (typeof nbf === "number" && nbf > nowSeconds + CLOCK_SKEW_SECONDS)
    return { ok: false, reason: "not yet valid" };
  return { ok: true, userId: sub, expiresAt: exp };
}

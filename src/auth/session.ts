import { Jwt } from "hono/utils/jwt";
import { JwtTokenSignatureMismatched } from "hono/utils/jwt/types";
import { isStorableText } from "../lib/text";

/**
 * Dashboard session JWTs (docs/DESIGN.md#sessions-and-browser-access). Hono's JWT utility reads the
 * token and checks the header, the audience and the signature; the rules of this service are
 * added here: HS256 only, no `crit` header, `sub` a well-formed user id, `exp` required and at most
 * 24 h after `iat` and after now, a numeric `nbf` if any. Several secrets verify (rotation); the
 * first one signs.
 */

export const SESSION_AUDIENCE = "vulk-keys";
export const SESSION_MAX_TTL_SECONDS = 24 * 3600;
/** The longest user id a session may carry, in characters (code points). */
export const SESSION_SUBJECT_MAX = 256;
/** Tolerated clock difference between the signer and this Worker. */
const CLOCK_SKEW_SECONDS = 60;
const ALGORITHM = "HS256";

export type SessionResult = { ok: true; userId: string; expiresAt: number } | { ok: false; reason: string };

/**
 * A user id a session may name: 1–256 characters, no control character (C0, DEL, C1) and no lone
 * surrogate — it becomes `owner_id` text in Postgres and a log field.
 */
export function isSessionSubject(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0) return false;
  if (!isStorableText(value) || /\p{Cc}/u.test(value)) return false;
  return [...value].length <= SESSION_SUBJECT_MAX;
}

const keyCache = new Map<string, Promise<CryptoKey>>();

/**
 * One HMAC key per secret per isolate. Hono is given the CryptoKey, never the secret string: it
 * would read a string containing "PUBLIC" or "PRIVATE" as a PEM key.
 */
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keyCache.set(secret, key);
  }
  return key;
}

export async function signSession(
  userId: string,
  secret: string,
  { nowSeconds = Math.floor(Date.now() / 1000), ttlSeconds = 12 * 3600 } = {},
): Promise<string> {
  const claims = { sub: userId, aud: SESSION_AUDIENCE, iat: nowSeconds, exp: nowSeconds + ttlSeconds };
  return Jwt.sign(claims, await hmacKey(secret), ALGORITHM);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isTime = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** The rules Hono does not apply, on the decoded header and claims; pure. The reason is for logs. */
export function sessionRuleViolation(
  header: unknown,
  claims: unknown,
  nowSeconds: number,
): string | undefined {
  if (!isObject(header) || !isObject(claims)) return "not a JWT";
  if (header.alg !== ALGORITHM) return "algorithm is not HS256";
  if ("crit" in header) return "crit header";
  const { sub, exp, iat, nbf } = claims;
  if (!isSessionSubject(sub)) return "bad sub";
  if (!isTime(exp)) return "exp missing";
  if (exp <= nowSeconds) return "expired";
  if (exp > nowSeconds + SESSION_MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS) return "exp too far ahead";
  if (iat !== undefined) {
    if (!isTime(iat)) return "iat not numeric";
    if (iat > nowSeconds + CLOCK_SKEW_SECONDS) return "issued in the future";
    if (exp - iat > SESSION_MAX_TTL_SECONDS) return "lifetime over 24 h";
  }
  if (nbf !== undefined) {
    if (!isTime(nbf)) return "nbf not numeric";
    if (nbf > nowSeconds + CLOCK_SKEW_SECONDS) return "not yet valid";
  }
  return undefined;
}

/** Verifies signature (constant time, via WebCrypto) and claims; the reason is for logs only. */
export async function verifySession(
  token: string,
  secrets: readonly string[],
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<SessionResult> {
  let decoded: { header: unknown; payload: unknown };
  try {
    decoded = Jwt.decode(token);
  } catch {
    return { ok: false, reason: "not a JWT" };
  }
  const violation = sessionRuleViolation(decoded.header, decoded.payload, nowSeconds);
  if (violation) return { ok: false, reason: violation };
  const claims = decoded.payload as { sub: string; exp: number };

  for (const secret of secrets) {
    try {
      // Time claims are checked above, with this Worker's clock and skew; Hono checks the rest.
      await Jwt.verify(token, await hmacKey(secret), {
        alg: ALGORITHM,
        aud: SESSION_AUDIENCE,
        exp: false,
        nbf: false,
        iat: false,
      });
      return { ok: true, userId: claims.sub, expiresAt: claims.exp };
    } catch (error) {
      if (error instanceof JwtTokenSignatureMismatched) continue;
      return { ok: false, reason: error instanceof Error ? error.name : "unreadable token" };
    }
  }
  return { ok: false, reason: "bad signature" };
}

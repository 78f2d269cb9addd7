import { describeDbError, isDatabaseError } from "../db/errors";

/** Header and field names whose values never reach a log line. */
const SECRET_NAMES = new Set([
  "authorization",
  "x-api-key",
  "x-goog-api-key",
  "cookie",
  "set-cookie",
  "apikey",
  "api_key",
  "key",
  "token",
  "secret",
  "password",
  "ciphertext",
]);

/** Strings shaped like secrets: our keys, common provider keys, bearer tokens, JWTs. */
const SECRET_PATTERNS: RegExp[] = [
  /vk_sk_[0-9A-Za-z]{4,}/g,
  /\b(?:sk|gsk|xai|fw|ak)[-_][A-Za-z0-9_-]{12,}/g,
  /\bAIza[0-9A-Za-z_-]{20,}/g,
  /\bBearer\s+[^\s"',]+/gi,
  /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
  /\b[A-Za-z0-9+/]{40,}={0,2}/g,
];

export const REDACTED = "[redacted]";

export function redactString(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, REDACTED), text);
}

/**
 * Deep copy of `value` with secret-named fields and secret-shaped strings replaced; a database
 * error becomes its `describeDbError()` (no message, no parameters).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    // Its message and stack carry the query's parameters: only class, SQLSTATE, constraint, query name.
    if (isDatabaseError(value)) return describeDbError(value);
    return { name: value.name, message: redactString(value.message), stack: redactString(value.stack ?? "") };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] = SECRET_NAMES.has(name.toLowerCase()) ? REDACTED : redact(field, depth + 1);
  }
  return out;
}

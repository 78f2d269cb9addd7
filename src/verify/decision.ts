/**
 * The verdict on a /v1 request (docs/DESIGN.md#the-key-check), as one pure function: given what is known about
 * the key, the limiter's answer, the permission the route needs and the time, allow or deny — and why.
 * Order: key (401) → limit (429) → permission (403).
 */
import type { Permission } from "../domain/permissions";
import type { ErrorCode } from "../http/errors";
import type { RateReport } from "./rate-headers";

/** A key as the check needs it (from the cache or one Neon row). */
export interface KeyFacts {
  id: string;
  ownerId: string;
  name: string;
  permissions: readonly Permission[];
  rateLimit: number;
  /** The owner's limit across all keys (per minute). */
  accountRateLimit: number;
  /** The projects the key may reach; null = all of the owner's. */
  projects: readonly string[] | null;
  expiresAtMs: number | null;
  revoked: boolean;
  enabled: boolean;
  /** Which secret the caller presented: the current one, or the one replaced by the last roll. */
  matched: "current" | "previous";
  previousExpiresAtMs: number | null;
}

export type KeyStatus =
  | { ok: true }
  | { ok: false; code: Extract<ErrorCode, "invalid_key" | "key_revoked" | "key_expired" | "key_disabled"> };

export type Verdict =
  | { allow: true; key: KeyFacts; rate: RateReport }
  | { allow: false; code: ErrorCode; detail: string; rate: RateReport; key?: KeyFacts };

/** Whether the key itself may be used now (the 401 part of the verdict). */
export function keyStatus(key: KeyFacts | null, nowMs: number): KeyStatus {
  if (!key) return { ok: false, code: "invalid_key" };
  if (key.revoked) return { ok: false, code: "key_revoked" };
  if (key.expiresAtMs !== null && key.expiresAtMs <= nowMs) return { ok: false, code: "key_expired" };
  if (key.matched === "previous" && (key.previousExpiresAtMs === null || key.previousExpiresAtMs <= nowMs)) {
    return { ok: false, code: "key_expired" };
  }
  if (!key.enabled) return { ok: false, code: "key_disabled" };
  return { ok: true };
}

/** What a refused caller is told for each authentication failure. */
const DETAILS = {
  missing_key: "Send the API key as Authorization: Bearer vk_sk_…",
  malformed_key: "The API key is malformed.",
  invalid_key: "The API key is not valid.",
  key_revoked: "The API key has been revoked.",
  key_expired: "The API key has expired.",
  key_disabled: "The API key is disabled; its owner can enable it again.",
} as const satisfies Partial<Record<ErrorCode, string>>;

export type AuthFailure = keyof typeof DETAILS;

/** A refusal with the caller-facing detail of its code. */
export function authFailure(code: AuthFailure, rate: RateReport, key?: KeyFacts): Verdict {
  return { allow: false, code, detail: DETAILS[code], rate, ...(key ? { key } : {}) };
}

export function denied(code: ErrorCode, detail: string, rate: RateReport): Verdict {
  return { allow: false, code, detail, rate };
}

export interface DecisionInput {
  key: KeyFacts;
  /** The limiters' answer; `hit` names the limit a refused request is over. */
  limit: { success: true; rate: RateReport } | { success: false; hit: "key" | "account"; rate: RateReport };
  required: Permission | null;
  nowMs: number;
}

export function decide({ key, limit, required, nowMs }: DecisionInput): Verdict {
  const status = keyStatus(key, nowMs);
  if (!status.ok) return authFailure(status.code, limit.rate, key);
  if (!limit.success) {
    return {
      allow: false,
      code: "rate_limited",
      detail:
        limit.hit === "key"
          ? `This key allows ${key.rateLimit} requests per minute.`
          : `This account allows ${key.accountRateLimit} requests per minute across all its keys.`,
      rate: limit.rate,
      key,
    };
  }
  if (required && !key.permissions.includes(required)) {
    return {
      allow: false,
      code: "missing_permission",
      detail: `This key lacks the permission ${required}.`,
      rate: limit.rate,
      key,
    };
  }
  return { allow: true, key, rate: limit.rate };
}

/**
 * The limiter's answer, restated at the key's current limit. A changed key is re-read only once its
 * marker shows the change — by then this request was already counted under the old limit. The
 * window's count is the same; only the verdict and what remains change. Over the old limit the
 * count is unknown beyond it, so the request stays refused.
 */
export function atCurrentLimit(
  answer: { success: boolean; remaining: number },
  askedLimit: number,
  currentLimit: number,
): { success: boolean; remaining: number } {
  if (askedLimit === currentLimit) return { success: answer.success, remaining: answer.remaining };
  if (!answer.success) return { success: false, remaining: 0 };
  const used = askedLimit - answer.remaining;
  return { success: used <= currentLimit, remaining: Math.max(0, currentLimit - used) };
}

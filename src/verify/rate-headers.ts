import { WINDOW_SECONDS } from "../limits/sliding-window";

/** A limiter's answer, normalised: what the rate-limit headers are made of. */
export interface RateState {
  policy: "key" | "ip";
  limit: number;
  remaining: number;
  /** Unix milliseconds when the current window ends. */
  resetMs: number;
  /** Window length in seconds. */
  windowSeconds: number;
}

/** The end of the current epoch-aligned window: what the limiter reports, when it could not be asked. */
export function windowEnd(nowMs: number, windowSeconds = WINDOW_SECONDS): number {
  const w = windowSeconds * 1000;
  return Math.floor(nowMs / w) * w + w;
}

/** Rate values when no limiter could be asked: the real limit and the window's real end; all of it remaining. */
export function unaskedRate(policy: RateState["policy"], limit: number, nowMs: number): RateState {
  return { policy, limit, remaining: limit, resetMs: windowEnd(nowMs), windowSeconds: WINDOW_SECONDS };
}

/**
 * A limiter's answer as rate state. A limiter that answered without a window (e.g. from a cache or
 * after a timeout) still reports the real limit and the window's real end.
 */
export function answeredRate(
  policy: RateState["policy"],
  limit: number,
  answer: { remaining: number; reset: number },
  nowMs: number,
): RateState {
  const resetMs = answer.reset > 0 ? answer.reset : windowEnd(nowMs);
  return { policy, limit, remaining: answer.remaining, resetMs, windowSeconds: WINDOW_SECONDS };
}

/** The rate-limit headers (docs/DESIGN.md#rate-limit-headers); `Retry-After` only on a 429. */
export function rateLimitHeaders(state: RateState, nowMs: number, limited: boolean): Record<string, string> {
  const resetSeconds = Math.ceil(state.resetMs / 1000);
  const secondsLeft = Math.max(0, resetSeconds - Math.floor(nowMs / 1000));
  const remaining = Math.max(0, state.remaining);
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(state.limit),
    "X-RateLimit-Remaining": String(remaining),
    "X-RateLimit-Reset": String(resetSeconds),
    "RateLimit-Policy": `"${state.policy}";q=${state.limit};w=${state.windowSeconds}`,
    RateLimit: `"${state.policy}";r=${remaining};t=${secondsLeft}`,
  };
  if (limited) headers["Retry-After"] = String(Math.max(1, secondsLeft));
  return headers;
}

/** Every header a browser script may read on `/v1` (CORS exposure). */
export const EXPOSED_RATE_HEADERS = [
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
  "RateLimit-Policy",
  "RateLimit",
  "Retry-After",
];

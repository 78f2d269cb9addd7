import { WINDOW_SECONDS } from "../limits/sliding-window";

/** A limiter's answer, normalised: what the rate-limit headers are made of. */
export interface RateState {
  policy: "key" | "account" | "ip";
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

/** Every policy that applied to one request: the key's and the account's, or the client's alone. */
export type RateReport = readonly [RateState, ...RateState[]];

/**
 * The policy the `X-RateLimit-*` headers and `Retry-After` report: the one closer to exhaustion
 * (fewest remaining; on a tie, the later reset — the wait that covers both).
 */
export function reportedPolicy(report: RateReport): RateState {
  return report.reduce((closest, state) => {
    const [a, b] = [Math.max(0, state.remaining), Math.max(0, closest.remaining)];
    return a < b || (a === b && state.resetMs > closest.resetMs) ? state : closest;
  });
}

const secondsUntil = (resetMs: number, nowMs: number) =>
  Math.max(0, Math.ceil(resetMs / 1000) - Math.floor(nowMs / 1000));

/**
 * The rate-limit headers (docs/DESIGN.md#rate-limit-headers): `RateLimit-Policy` and `RateLimit`
 * list every policy, the rest report the one closer to exhaustion; `Retry-After` only on a 429.
 */
export function rateLimitHeaders(
  report: RateReport,
  nowMs: number,
  limited: boolean,
): Record<string, string> {
  const reported = reportedPolicy(report);
  const resetSeconds = Math.ceil(reported.resetMs / 1000);
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(reported.limit),
    "X-RateLimit-Remaining": String(Math.max(0, reported.remaining)),
    "X-RateLimit-Reset": String(resetSeconds),
    "RateLimit-Policy": report.map((s) => `"${s.policy}";q=${s.limit};w=${s.windowSeconds}`).join(", "),
    RateLimit: report
      .map((s) => `"${s.policy}";r=${Math.max(0, s.remaining)};t=${secondsUntil(s.resetMs, nowMs)}`)
      .join(", "),
  };
  if (limited) headers["Retry-After"] = String(Math.max(1, secondsUntil(reported.resetMs, nowMs)));
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

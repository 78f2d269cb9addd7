/** The simulator's figures, from the checks the isolates reported (docs/SCALING.md#what-is-measured). */
import type { Traffic } from "./network";
import type { Samples } from "./protocol";

/** The limiter's window: every limit of the service counts requests per minute. */
export const WINDOW_MS = 60_000;

/** Upstash pay-as-you-go: $0.2 per 100K commands. */
export const DOLLARS_PER_COMMAND = 0.2 / 100_000;

/**
 * The most checks admitted in any window of WINDOW_MS that starts at an admitted check and ends by
 * `endByMs` (default: no end), over sorted times.
 */
export function maxInRollingWindow(sortedMs: readonly number[], endByMs = Number.POSITIVE_INFINITY): number {
  let most = 0;
  let last = 0;
  for (let first = 0; first < sortedMs.length; first++) {
    const startMs = sortedMs[first] as number;
    if (startMs + WINDOW_MS > endByMs) break;
    last = Math.max(last, first);
    while (last < sortedMs.length && (sortedMs[last] as number) < startMs + WINDOW_MS) last++;
    most = Math.max(most, last - first);
  }
  return most;
}

/** Times of the admitted checks of one key (when they were answered, or started), sorted. */
export function admittedTimes(
  all: readonly Samples[],
  key: number,
  at: "endMs" | "startMs" = "endMs",
): number[] {
  const times: number[] = [];
  for (const s of all) {
    for (let i = 0; i < s.key.length; i++) {
      if (s.key[i] === key && s.allowed[i]) times.push(s[at][i] as number);
    }
  }
  return times.sort((a, b) => a - b);
}

/**
 * How long after the revocation's answer a check that STARTED then was still admitted (checks
 * already under way when it was answered may be admitted: they were ordered before it); 0 if none.
 */
export function admittedAfter(times: readonly number[], answeredAtMs: number): number {
  const last = times.at(-1);
  return last === undefined ? 0 : Math.max(0, last - answeredAtMs);
}

export function latencies(all: readonly Samples[]): number[] {
  return all.flatMap((s) => s.endMs.map((end, i) => end - (s.startMs[i] as number)));
}

export function checks(all: readonly Samples[]): number {
  return all.reduce((sum, s) => sum + s.key.length, 0);
}

export function addTraffic(all: readonly Traffic[]): Traffic {
  return all.reduce(
    (sum, t) => ({
      upstashRequests: sum.upstashRequests + t.upstashRequests,
      upstashCommands: sum.upstashCommands + t.upstashCommands,
      neonRequests: sum.neonRequests + t.neonRequests,
    }),
    { upstashRequests: 0, upstashCommands: 0, neonRequests: 0 },
  );
}

/**
 * Limiter accuracy over HTTP: 3L requests issued at once on a fresh key with limit L; how many
 * are admitted (target: exactly L). Bursts start away from a window edge: the sliding window's
 * estimate may admit L+1 across a minute boundary (the library's sliding-window estimate).
 */
import http from "node:http";
import type { BenchClient } from "./client";
import { sleep } from "./stats";

export interface LimiterResult {
  limit: number;
  sent: number;
  admitted: number;
  /** Admitted with the limiter's answer (X-RateLimit-Remaining < L): the counter itself, target exactly L. */
  admittedByLimiter: number;
  /** Admitted without asking the limiter (Remaining = L): the isolate's Upstash breaker was open. */
  admittedFailOpen: number;
  limited: number;
  /** `upstash_unavailable` warnings the Worker logged during the burst (500 ms timeouts). */
  upstashTimeouts: number;
  other: Record<string, number>;
  burstMs: number;
  /** Second of the minute when the burst started and ended (the limiter's window is the minute). */
  startSecond: number;
  endSecond: number;
  crossedWindow: boolean;
  maxInFlight: number;
}

/** Concurrent enough to race on the counter; the single local isolate queues the rest. */
const MAX_IN_FLIGHT = 25;
const WINDOW_MS = 60_000;

interface Answer {
  status: number;
  remaining: number;
}

function get(agent: http.Agent, url: URL, authorization: string): Promise<Answer> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent, headers: { authorization }, timeout: 30_000 }, (response) => {
      const answer = {
        status: response.statusCode ?? 0,
        remaining: Number(response.headers["x-ratelimit-remaining"] ?? Number.NaN),
      };
      response.resume();
      response.once("end", () => resolve(answer));
      response.once("error", () => resolve({ status: 0, remaining: Number.NaN }));
    });
    request.once("timeout", () => request.destroy());
    request.once("error", () => resolve({ status: 0, remaining: Number.NaN }));
  });
}

/** Waits (if needed) until the current minute has at least `needMs` left and is ≥ 2 s old. */
async function awayFromWindowEdge(needMs: number): Promise<void> {
  const into = Date.now() % WINDOW_MS;
  if (into >= 2000 && WINDOW_MS - into >= needMs) return;
  await sleep(WINDOW_MS - into + 2000);
}

export async function limiterAccuracy(
  client: BenchClient,
  upstashTimeouts: () => number,
  limits = [10, 60, 1000],
): Promise<LimiterResult[]> {
  const session = await client.session("bench-limiter");
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const url = new URL("/v1/key", client.url);
  const results: LimiterResult[] = [];
  let rate = 200; // requests/s, refined after each burst, to keep the next one inside its window
  try {
    for (const limit of limits) {
      const key = await client.createKey(session, `limiter-${limit}`, limit);
      const sent = 3 * limit;
      await awayFromWindowEdge(Math.min(55_000, Math.max(10_000, (sent / rate) * 1000 * 2)));
      const timeoutsBefore = upstashTimeouts();
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: sent }, () => get(agent, url, `Bearer ${key.key}`)),
      );
      const ended = Date.now();
      const statuses = answers.map((a) => a.status);
      const admitted = answers.filter((a) => a.status === 200);
      rate = Math.max(50, sent / Math.max(0.001, (ended - started) / 1000));
      const other: Record<string, number> = {};
      for (const s of statuses) if (s !== 200 && s !== 429) other[s] = (other[s] ?? 0) + 1;
      results.push({
        limit,
        sent,
        admitted: admitted.length,
        admittedByLimiter: admitted.filter((a) => a.remaining < limit).length,
        admittedFailOpen: admitted.filter((a) => a.remaining === limit).length,
        limited: statuses.filter((s) => s === 429).length,
        upstashTimeouts: upstashTimeouts() - timeoutsBefore,
        other,
        burstMs: ended - started,
        startSecond: Math.floor((started % WINDOW_MS) / 1000),
        endSecond: Math.floor((ended % WINDOW_MS) / 1000),
        crossedWindow: Math.floor(started / WINDOW_MS) !== Math.floor(ended / WINDOW_MS),
        maxInFlight: MAX_IN_FLIGHT,
      });
    }
  } finally {
    agent.destroy();
  }
  return results;
}

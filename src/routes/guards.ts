/** Route-level guards shared by the dashboard routes: they turn domain outcomes into HTTP errors. */
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import type { MarkerValue } from "../keys/marker";
import { writeMarkers } from "../keys/marker";
import { takeUserLimit, type UserLimit } from "../limits/user-limits";

/** Counts one write for the signed-in user; 429 with Retry-After once the minute's budget is spent. */
export async function enforceUserLimit(c: Context<AppEnv>, limit: UserLimit): Promise<void> {
  const verdict = await takeUserLimit(limit, c.get("session").userId, {
    redis: c.get("stores").redis,
    logger: c.get("logger"),
    waitUntil: (p) => c.executionCtx.waitUntil(p),
  });
  if (verdict.ok) return;
  const retryAfter = verdict.retryAfterSeconds;
  throw new ApiError("rate_limited", `Too many ${limit.replace("-", " ")}; try again in ${retryAfter} s.`, {
    headers: { "Retry-After": String(retryAfter) },
  });
}

/** Writes the markers of a committed change; 503 when they cannot be (repeating the request re-writes them). */
export async function propagateChange(c: Context<AppEnv>, markers: Map<string, MarkerValue>): Promise<void> {
  const written = await writeMarkers(c.get("stores").redis, markers, c.get("logger"));
  if (written === "failed") {
    throw new ApiError(
      "service_unavailable",
      "The change is saved but could not be propagated yet; repeat the request.",
    );
  }
}

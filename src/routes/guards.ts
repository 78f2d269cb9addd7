/** Route-level guards shared by the dashboard routes: they turn domain outcomes into HTTP errors. */
import type { Context } from "hono";
import type { ApiKeyRow } from "../db/schema";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { changeKeys, effectsOf, type KeyEffects } from "../keys/marker";
import { keyStateOf } from "../keys/repository";
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

/** The markers and index entries of the rows a change left behind (none for a change that found nothing). */
export const effectsOfRows = (rows: readonly (ApiKeyRow | undefined)[]): KeyEffects =>
  effectsOf(rows.filter((row): row is ApiKeyRow => row !== undefined).map(keyStateOf), Date.now());

/**
 * Runs one key change under the marker protocol (docs/DESIGN.md#marker-protocol): 503 when Redis
 * refuses the first step — then nothing changed, and repeating the request is safe.
 */
export async function changeKeysOrFail<T>(
  c: Context<AppEnv>,
  keyIds: readonly string[],
  commit: () => Promise<T>,
  effects: (value: T) => KeyEffects,
): Promise<T> {
  const outcome = await changeKeys(c.get("stores"), c.get("logger"), keyIds, commit, effects);
  if (!outcome.ok) {
    throw new ApiError(
      "service_unavailable",
      "Nothing was changed: the change cannot be propagated right now. Try again.",
    );
  }
  return outcome.value;
}

/**
 * The key check's one small script (docs/DESIGN.md#the-key-check): reads the key's marker, opens
 * the last-used gate and counts the request's usage — three concerns, ONE Redis command, so a warm
 * key costs the two limits plus this: three commands in one Upstash request.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { lastUsedGateKey, markerKey, usageHourKey, usageKey } from "./keyspace";
import { USAGE_TTL_SECONDS, type UsageOutcome } from "./usage";

/**
 * KEYS: marker, last-used gate, usage hash, usage hour set. ARGV: gate seconds (0 = no gate),
 * outcome to count ('' = none), usage TTL, key id, outcome to take back ('' = none).
 * Returns {marker or false, 1 if the gate opened}.
 */
export const CHECK_SCRIPT = `local marker = redis.call('GET', KEYS[1])
local opened = 0
if ARGV[1] ~= '0' and redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then opened = 1 end
if ARGV[5] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[5], -1) end
if ARGV[2] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
  redis.call('SADD', KEYS[4], ARGV[4])
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
if ARGV[2] ~= '' or ARGV[5] ~= '' then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return {marker, opened}`;

/**
 * SHA-1 of CHECK_SCRIPT, written out so that EVALSHA goes out in the same tick as the limits (a
 * digest computed at run time would be awaited and miss the request); a test pins it to the script.
 */
export const CHECK_SCRIPT_SHA1 = "8758fb2e83449b52eee362f7610bc3736255ee1d";

export interface CheckTouch {
  keyId: string;
  /** `yyyymmddhh` of the request. */
  hour: string;
  /** The outcome to count, or null to count nothing. */
  outcome: UsageOutcome | null;
  /** An outcome this request was counted under before, taken back (a recount); default none. */
  takeBack?: UsageOutcome | null;
  /** Open the last-used gate for this long; 0 leaves it alone. */
  gateSeconds: number;
}

export interface CheckTouchResult {
  /** The marker as stored: a version, `revoked`, `changing`, or null when missing. */
  marker: string | null;
  gateOpened: boolean;
}

export async function touchKey(redis: Redis, touch: CheckTouch): Promise<CheckTouchResult> {
  const keys = [
    markerKey(touch.keyId),
    lastUsedGateKey(touch.keyId),
    usageKey(touch.keyId, touch.hour),
    usageHourKey(touch.hour),
  ];
  const args = [
    String(touch.gateSeconds),
    touch.outcome ?? "",
    String(USAGE_TTL_SECONDS),
    touch.keyId,
    touch.takeBack ?? "",
  ];
  let reply: [unknown, unknown];
  try {
    reply = await redis.evalsha<string[], [unknown, unknown]>(CHECK_SCRIPT_SHA1, keys, args);
  } catch (error) {
    // Once per Redis: the script is not loaded yet. EVAL loads it for every later EVALSHA.
    if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
    reply = await redis.eval<string[], [unknown, unknown]>(CHECK_SCRIPT, keys, args);
  }
  const [marker, opened] = reply;
  return {
    marker: marker === null || marker === undefined || marker === false ? null : String(marker),
    gateOpened: Number(opened) === 1,
  };
}

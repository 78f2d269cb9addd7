/**
 * The key check's one small script (docs/DESIGN.md#the-key-check): reads the key's marker, opens
 * the last-used gate, counts the request's usage and asks the owner's account window — four
 * concerns, ONE Redis command, so a warm key costs its own limit plus this: two commands in one
 * Upstash request.
 *
 * The account window is the sliding window of @upstash/ratelimit (the same arithmetic on the same
 * keys, `<prefix>:<owner>:<window>`), so the library's own calls — a refund with rate −1, a re-ask
 * after a limit change — act on the counts this script keeps.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { lastUsedGateKey, markerKey, usageHourKey, usageKey } from "./keyspace";
import { USAGE_TTL_SECONDS, type UsageOutcome } from "./usage";

/**
 * KEYS: marker, last-used gate, usage hash, usage hour set, account window now, account window
 * before. ARGV: gate seconds (0 = no gate), outcome to count ('' = none), usage TTL, key id,
 * outcome to take back ('' = none), account limit ('' = leave the account alone), now (ms),
 * window (ms), account increment (1 counts the request, 0 only reads).
 * Returns {marker or false, 1 if the gate opened, the account's remaining (−1: refused) or false}.
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
local remaining = false
if ARGV[6] ~= '' then
  local limit = tonumber(ARGV[6])
  local window = tonumber(ARGV[8])
  local increment = tonumber(ARGV[9])
  local current = tonumber(redis.call('GET', KEYS[5]) or '0')
  local previous = tonumber(redis.call('GET', KEYS[6]) or '0')
  previous = math.floor((1 - (tonumber(ARGV[7]) % window) / window) * previous)
  if increment > 0 and previous + current >= limit then
    remaining = -1
  else
    if increment > 0 then
      current = redis.call('INCRBY', KEYS[5], increment)
      if current == increment then redis.call('PEXPIRE', KEYS[5], window * 2 + 1000) end
    end
    remaining = limit - (current + previous)
  end
end
return {marker, opened, remaining}`;

/**
 * SHA-1 of CHECK_SCRIPT, written out so that EVALSHA goes out in the same tick as the limits (a
 * digest computed at run time would be awaited and miss the request); a test pins it to the script.
 */
export const CHECK_SCRIPT_SHA1 = "41d963fc39d33421adddb9456690a730e3d0a679";

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
  /** Ask the owner's account window too (key-limits.ts says how); default leave it alone. */
  account?: AccountWindowAsk;
}

/** One ask of an account's sliding window, in the library's terms. */
export interface AccountWindowAsk {
  currentKey: string;
  previousKey: string;
  limit: number;
  nowMs: number;
  windowMs: number;
  /** 1 counts this request, 0 only reads the window. */
  increment: 0 | 1;
}

export interface CheckTouchResult {
  /** The marker as stored: a version, `revoked`, `changing`, or null when missing. */
  marker: string | null;
  gateOpened: boolean;
  /** The account window's remaining after this ask (−1: refused), or null when not asked. */
  accountRemaining: number | null;
}

export async function touchKey(redis: Redis, touch: CheckTouch): Promise<CheckTouchResult> {
  const account = touch.account;
  const keys = [
    markerKey(touch.keyId),
    lastUsedGateKey(touch.keyId),
    usageKey(touch.keyId, touch.hour),
    usageHourKey(touch.hour),
    account?.currentKey ?? "",
    account?.previousKey ?? "",
  ];
  const args = [
    String(touch.gateSeconds),
    touch.outcome ?? "",
    String(USAGE_TTL_SECONDS),
    touch.keyId,
    touch.takeBack ?? "",
    account ? String(account.limit) : "",
    String(account?.nowMs ?? 0),
    String(account?.windowMs ?? 0),
    String(account?.increment ?? 0),
  ];
  let reply: [unknown, unknown, unknown];
  try {
    reply = await redis.evalsha<string[], [unknown, unknown, unknown]>(CHECK_SCRIPT_SHA1, keys, args);
  } catch (error) {
    // Once per Redis: the script is not loaded yet. EVAL loads it for every later EVALSHA.
    if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
    reply = await redis.eval<string[], [unknown, unknown, unknown]>(CHECK_SCRIPT, keys, args);
  }
  const [marker, opened, remaining] = reply;
  const asked = remaining !== null && remaining !== undefined && remaining !== false;
  return {
    marker: marker === null || marker === undefined || marker === false ? null : String(marker),
    gateOpened: Number(opened) === 1,
    accountRemaining: asked ? Number(remaining) : null,
  };
}

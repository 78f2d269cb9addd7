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
import { runScript } from "../redis/script";
import {
  lastUsedGateKey,
  markerKey,
  REGION_SYNC_CLAIM_KEY,
  REGION_SYNC_KEY,
  usageHourKey,
  usageKey,
} from "./keyspace";
import { USAGE_TTL_SECONDS, type UsageOutcome } from "./usage";

/**
 * KEYS: marker, last-used gate, usage hash, usage hour set, account window now, account window
 * before, region's sync state, sync claim. ARGV: gate seconds (0 = no gate), outcome to count
 * ('' = none), usage TTL, key id, outcome to take back ('' = none), account limit ('' = leave the
 * account alone), now (ms), window (ms), account increment (1 counts the request, 0 only reads),
 * sync interval (ms; '' = not a regional copy), now (ms) for the sync.
 * Returns {marker or false, 1 if the gate opened, the account's remaining (−1: refused) or false,
 * {synced-at, cursor, epoch, 1 if this check claimed the next sync} or false}.
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
local sync = false
if ARGV[10] ~= '' then
  local state = redis.call('HMGET', KEYS[7], 'stamp', 'cursor', 'epoch')
  local claimed = 0
  if math.abs(tonumber(ARGV[11]) - tonumber(state[1] or '0')) >= tonumber(ARGV[10])
    and redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[10]) then claimed = 1 end
  sync = {state[1] or '', state[2] or '', state[3] or '', claimed}
end
return {marker, opened, remaining, sync}`;

/**
 * SHA-1 of CHECK_SCRIPT, written out so that EVALSHA goes out in the same tick as the limits (a
 * digest computed at run time would be awaited and miss the request); a test pins it to the script.
 */
export const CHECK_SCRIPT_SHA1 = "bf4b5511866bf1408f510acb600d1dae657966da";

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
  /** A regional copy (leased topology): read its sync state and claim the next sync when due. */
  sync?: { nowMs: number; intervalMs: number };
}

/** A region's sync state as the check script read it (src/keys/marker-sync.ts writes it). */
export interface RegionSyncState {
  /** When the last complete sync started (ms), 0 when never. */
  syncedAtMs: number;
  /** The marker log's id it reached, or null. */
  cursor: string | null;
  /** Cached rows read from Neon before this (ms) are not to be trusted: the copy was rebuilt. */
  epochMs: number;
  /** This check is to run the next sync (the claim expires by itself). */
  claimed: boolean;
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
  /** Only when `sync` was asked. */
  sync: RegionSyncState | null;
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
    touch.sync ? REGION_SYNC_KEY : "",
    touch.sync ? REGION_SYNC_CLAIM_KEY : "",
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
    touch.sync ? String(touch.sync.intervalMs) : "",
    String(touch.sync?.nowMs ?? 0),
  ];
  const reply = await runScript<[unknown, unknown, unknown, unknown]>(
    redis,
    { source: CHECK_SCRIPT, sha1: CHECK_SCRIPT_SHA1 },
    keys,
    args,
  );
  const [marker, opened, remaining, sync] = reply;
  const asked = remaining !== null && remaining !== undefined && remaining !== false;
  return {
    marker: marker === null || marker === undefined || marker === false ? null : String(marker),
    gateOpened: Number(opened) === 1,
    accountRemaining: asked ? Number(remaining) : null,
    sync: Array.isArray(sync) ? syncStateOf(sync) : null,
  };
}

function syncStateOf([stamp, cursor, epoch, claimed]: unknown[]): RegionSyncState {
  return {
    syncedAtMs: Number(stamp) || 0,
    cursor: cursor === "" || cursor === null || cursor === undefined ? null : String(cursor),
    epochMs: Number(epoch) || 0,
    claimed: Number(claimed) === 1,
  };
}

/**
 * The regions' copies of the markers (leased topology, docs/DESIGN.md#regions). The writer keeps
 * the primary's markers as always and appends each write to the marker log, a stream on the
 * primary, in the same script; it then writes the regions' copies directly. A region's isolates
 * pull the log behind that (`syncRegion`), at most one sync at a time per region, and stamp the
 * copy with the time each complete sync started — so a copy stamped within the last second holds
 * every marker written more than a second ago, whatever the network did, and a reader that finds
 * an older stamp does not trust the copy (src/verify/verifier.ts).
 *
 * Applying is monotonic: `revoked` is final, a version never goes down, `changing` lives 30 s from
 * its write. Applying an entry twice, or late, never makes a copy claim more than the database.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Logger } from "../observability/logger";
import { runScript, type Script } from "../redis/script";
import { MARKER_LOG_KEY, markerKey, REGION_SYNC_KEY } from "./keyspace";
import { CHANGING_TTL_SECONDS } from "./marker";

/** A region's copy is trusted while its last complete sync started at most this long ago. */
export const SYNC_STALE_MS = 1000;
/** A check that finds the copy's stamp this old claims the next sync. */
export const SYNC_INTERVAL_MS = 250;
/** The log keeps a day. */
export const LOG_RETENTION_MS = 24 * 3600_000;
/**
 * A copy not synced for this long starts over at the log's end with a new epoch instead of reading
 * the log from its cursor: the log may miss what happened meanwhile (trimmed, or written while the
 * topology was single-primary and nothing logged), and cached rows are this old at most anyway.
 */
export const RESYNC_AFTER_MS = 60_000;
const SYNC_PAGE = 200;
const SYNC_PAGES = 5;

/** A marker write as the log carries it: a version, `revoked`, `changing`, or `cleared` (deleted). */
export type LoggedValue = string;
export const CLEARED = "cleared";

export interface MarkerWrite {
  keyId: string;
  value: LoggedValue;
  /** When it was written on the primary (the log entry's time), ms. */
  atMs: number;
}

/**
 * KEYS: the log, then the markers. ARGV: the log's MINID, the `changing` TTL (s), then per marker
 * its key id and value. Writes the primary's markers and appends them to the log as one entry;
 * returns the entry's id.
 */
export const LOG_WRITE_SCRIPT: Script = {
  source: `local fields = {}
for i = 2, #KEYS do
  local value = ARGV[2 * i]
  if value == 'changing' then redis.call('SET', KEYS[i], value, 'EX', ARGV[2])
  elseif value == 'cleared' then redis.call('DEL', KEYS[i])
  else redis.call('SET', KEYS[i], value) end
  fields[#fields + 1] = ARGV[2 * i - 1]
  fields[#fields + 1] = value
end
return redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[1], '*', unpack(fields))`,
  sha1: "cb0ef4365cbecabda0eb4c264b7584b024706b4d",
};

/**
 * KEYS: the copy's sync state, then the markers. ARGV: now (ms), the `changing` TTL (ms), the
 * cursor reached, the sync's start (stamp: the last complete sync's, even if an earlier one — a later
 * stamp is never claimed), the epoch ('' each: leave it), then per marker its value
 * and write time (ms). A value `raise:<version>` (a reader's, from a fresh database row) only fills
 * a missing marker or raises a lower version: it never overwrites `changing`.
 */
export const APPLY_SCRIPT: Script = {
  source: `local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  local value = ARGV[2 * i + 2]
  local at = tonumber(ARGV[2 * i + 3])
  local current = redis.call('GET', KEYS[i])
  if current ~= 'revoked' then
    local raise = string.match(value, '^raise:(.+)$')
    if raise then
      if raise == 'revoked' then redis.call('SET', KEYS[i], raise)
      elseif not current or (tonumber(current) and tonumber(current) < tonumber(raise)) then
        redis.call('SET', KEYS[i], raise)
      end
    elseif value == 'revoked' then redis.call('SET', KEYS[i], value)
    elseif value == 'changing' then
      if at + ttl > now then redis.call('SET', KEYS[i], value, 'PX', math.floor(at + ttl - now)) end
    elseif value == 'cleared' then redis.call('DEL', KEYS[i])
    else
      local held = tonumber(current)
      if not held or held < tonumber(value) then redis.call('SET', KEYS[i], value) end
    end
  end
end
local function later(a, b)
  if not b then return true end
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not bm then return true end
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
if ARGV[3] ~= '' and later(ARGV[3], redis.call('HGET', KEYS[1], 'cursor')) then
  redis.call('HSET', KEYS[1], 'cursor', ARGV[3])
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'stamp', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'epoch', ARGV[5]) end
return 1`,
  sha1: "243bc56e1d4f074ee6bf0270ec59891762f899c8",
};

const idMs = (entryId: string) => Number(entryId.split("-")[0]);

/** On the primary: writes the markers and logs them as one entry; returns the writes as logged. */
export async function logMarkerWrites(
  primary: Redis,
  writes: readonly { keyId: string; value: LoggedValue }[],
): Promise<MarkerWrite[]> {
  if (writes.length === 0) return [];
  const nowMs = Date.now();
  const entryId = await runScript<string>(
    primary,
    LOG_WRITE_SCRIPT,
    [MARKER_LOG_KEY, ...writes.map((w) => markerKey(w.keyId))],
    [
      `${nowMs - LOG_RETENTION_MS}-0`,
      String(CHANGING_TTL_SECONDS),
      ...writes.flatMap((w) => [w.keyId, w.value]),
    ],
  );
  const atMs = idMs(String(entryId));
  return writes.map((w) => ({ ...w, atMs }));
}

interface SyncStep {
  cursor?: string;
  stampMs?: number;
  epochMs?: number;
}

/** Applies marker writes (and a sync's progress) to a region's copy. */
export async function applyToCopy(regional: Redis, writes: readonly MarkerWrite[], step: SyncStep = {}) {
  await runScript<number>(
    regional,
    APPLY_SCRIPT,
    [REGION_SYNC_KEY, ...writes.map((w) => markerKey(w.keyId))],
    [
      String(Date.now()),
      String(CHANGING_TTL_SECONDS * 1000),
      step.cursor ?? "",
      step.stampMs === undefined ? "" : String(step.stampMs),
      step.epochMs === undefined ? "" : String(step.epochMs),
      ...writes.flatMap((w) => [w.value, String(w.atMs)]),
    ],
  );
}

/** A reader's repair from a fresh database row: fills a missing marker, raises a lower version. */
export function raiseCopy(regional: Redis, keyId: string, value: number | "revoked"): Promise<number> {
  return runScript<number>(
    regional,
    APPLY_SCRIPT,
    [REGION_SYNC_KEY, markerKey(keyId)],
    [String(Date.now()), "0", "", "", "", `raise:${value}`, "0"],
  );
}

/**
 * One sync of a region's copy from the marker log: every entry after its cursor, in order, then the
 * stamp. A copy that never synced, or not for RESYNC_AFTER_MS, starts over from the log's end with
 * a new epoch: readers re-read every cached row once and repair the copy as they go.
 */
export async function syncRegion(
  primary: Redis,
  regional: Redis,
  state: { syncedAtMs: number; cursor: string | null },
  logger: Logger,
): Promise<void> {
  const startedMs = Date.now();
  try {
    if (state.cursor === null || Math.abs(startedMs - state.syncedAtMs) > RESYNC_AFTER_MS) {
      const last = Object.keys(await primary.xrevrange(MARKER_LOG_KEY, "+", "-", 1))[0] ?? "0-0";
      await applyToCopy(regional, [], { cursor: last, stampMs: startedMs, epochMs: startedMs });
      return;
    }
    let cursor = state.cursor;
    for (let page = 0; page < SYNC_PAGES; page++) {
      const entries = await primary.xrange<Record<string, unknown>>(
        MARKER_LOG_KEY,
        `(${cursor}`,
        "+",
        SYNC_PAGE,
      );
      const ids = Object.keys(entries);
      const writes = ids.flatMap((id) =>
        Object.entries(entries[id] ?? {}).map(([keyId, value]) => ({
          keyId,
          value: String(value),
          atMs: idMs(id),
        })),
      );
      cursor = ids.at(-1) ?? cursor;
      const caughtUp = ids.length < SYNC_PAGE;
      await applyToCopy(regional, writes, { cursor, ...(caughtUp ? { stampMs: startedMs } : {}) });
      if (caughtUp) return;
    }
  } catch (error) {
    logger.log("warn", "region_sync_failed", { error });
  }
}

/**
 * Whether a copy with this sync state can be trusted now: synced within the last second. A stamp
 * ahead of this isolate's clock by more than that (another isolate's clock) does not count either.
 */
export function copyIsCurrent(syncedAtMs: number, nowMs: number): boolean {
  return Math.abs(nowMs - syncedAtMs) <= SYNC_STALE_MS;
}

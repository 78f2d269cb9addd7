/**
 * Every Redis key name the service uses, built in one place. The catalogue (value, TTL, writer,
 * reader of each) is docs/STORAGE.md#redis-keys; a new key is added here and there together.
 */

/** The key's marker: its current version, `revoked`, or `changing` (docs/DESIGN.md#marker-protocol). */
export const markerKey = (keyId: string) => `vk:key:${keyId}`;

/**
 * The key-hash index: SHA-256 of a live secret → its key id. Consulted only for a cold key from a
 * client over its failed-auth limit, so that a valid key is never refused for others' failures.
 */
export const keyHashIndexKey = (hash: string) => `vk:kh:${hash}`;

/** Where the Cron Trigger's index rebuild resumes (the last key id it wrote). */
export const KEY_INDEX_REBUILD_CURSOR = "vk:kh-rebuild:cursor";

/**
 * The marker log (primary only, leased topology): a stream of every marker write, in order, for
 * the regions' copies (docs/DESIGN.md#regions). Entry fields: key id → value.
 */
export const MARKER_LOG_KEY = "vk:markers:log";

/** A region's copy: how far it has applied the marker log (hash: stamp, cursor, epoch). */
export const REGION_SYNC_KEY = "vk:sync";

/** Set (PX) by the check that is to run the region's next sync: one sync at a time per region. */
export const REGION_SYNC_CLAIM_KEY = "vk:sync:claim";

/** The last-used gate: opens (SET NX) at most once a minute per key. */
export const lastUsedGateKey = (keyId: string) => `vk:lu:${keyId}`;

/** One key's usage in one hour (`yyyymmddhh`, UTC): a hash of outcome → count. */
export const usageKey = (keyId: string, hour: string) => `vk:use:${keyId}:${hour}`;

/** The ids of the keys used in one hour: how the roll-up finds them without SCAN. */
export const usageHourKey = (hour: string) => `vk:use:keys:${hour}`;

/** Set once the roll-up has copied the hour into Postgres. */
export const usageDoneKey = (hour: string) => `vk:use:done:${hour}`;

/** Where the roll-up of an hour resumes: its SSCAN cursor over `usageHourKey(hour)`. */
export const usageCursorKey = (hour: string) => `vk:use:cursor:${hour}`;

/** A region's lease of a budget in one minute (leased topology): what it may still admit. */
export const leaseKey = (prefix: string, identifier: string, window: number) =>
  `${prefix}:${identifier}:lease:${window}`;

/** What the primary granted to all regions of a budget in one minute (leased topology). */
export const grantedKey = (prefix: string, identifier: string, window: number) =>
  `${prefix}:${identifier}:granted:${window}`;

/**
 * Sliding-window limiter prefixes. @upstash/ratelimit derives its counters from them as
 * `<prefix>:<identifier>:<window number>`.
 */
export const LIMITER_PREFIX = {
  /** Identifier: the key id. */
  key: "vk:rl:key",
  /** Identifier: the owner id — one window shared by all the owner's keys. */
  account: "vk:rl:acct",
  /** Identifier: the client bucket (IPv4 address or IPv6 /64). */
  failedAuth: "vk:rl:auth-failed",
  /** Identifier: the client bucket, as for failed authentication (`POST /v1/leaks`). */
  leakReport: "vk:rl:leak-report",
  /** Identifier: the signed-in user id. */
  userWrites: (limit: string) => `vk:rl:user:${limit}`,
} as const;

/** The key check's pure conversions: a stored row → cached row → the facts a verdict is made of. */

import type { Permission } from "../domain/permissions";
import { ERRORS } from "../http/errors";
import type { KeyCheckRow } from "../keys/repository";
import type { UsageOutcome } from "../keys/usage";
import type { KeyFacts, Verdict } from "./decision";
import type { KeyRow } from "./isolate-state";
import type { LimitSubject } from "./key-limits";

export function toKeyRow(row: KeyCheckRow): KeyRow {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    permissions: row.permissions as Permission[],
    rateLimit: row.rateLimit,
    accountRateLimit: row.accountRateLimit,
    projects: row.projects,
    enabled: row.enabled,
    version: row.version,
    hash: row.hash,
    previousHash: row.previousHash,
    previousExpiresAtMs: row.previousExpiresAt?.getTime() ?? null,
    expiresAtMs: row.expiresAt?.getTime() ?? null,
    revoked: row.revokedAt !== null,
  };
}

export function factsOf(row: KeyRow, hash: string, accountLimitDefault: number): KeyFacts {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    permissions: row.permissions,
    rateLimit: row.rateLimit,
    accountRateLimit: row.accountRateLimit ?? accountLimitDefault,
    projects: row.projects,
    expiresAtMs: row.expiresAtMs,
    revoked: row.revoked,
    enabled: row.enabled,
    matched: row.hash === hash ? "current" : "previous",
    previousExpiresAtMs: row.previousExpiresAtMs,
  };
}

/** What a verdict counts as in the key's usage; null for an answer that is none of them (a 503). */
export function usageOutcome(verdict: Verdict): UsageOutcome | null {
  if (verdict.allow) return "ok";
  if (verdict.code === "rate_limited") return "limited";
  const status = ERRORS[verdict.code].status;
  return status === 401 || status === 403 ? "denied" : null;
}

export const subjectOf = (facts: KeyFacts): LimitSubject => ({
  keyId: facts.id,
  ownerId: facts.ownerId,
  keyLimit: facts.rateLimit,
  accountLimit: facts.accountRateLimit,
});

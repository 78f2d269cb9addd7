/**
 * Leaked secrets (reported by secret scanning): what a leak of a stored secret calls for, pure.
 * The lookup and the kills are SQL, in repository.ts.
 */
import { type MarkerValue, REVOKED_MARKER } from "./marker";

/** A stored key whose current or previous secret has one of the reported hashes. */
export interface LeakMatch {
  id: string;
  hash: string;
  previousHash: string | null;
  version: number;
  revoked: boolean;
  /** Judged by the database clock, like the write that would end it. */
  previousInGrace: boolean;
}

export type LeakVerdict =
  | { kind: "unknown" }
  /** The key's current secret, key not revoked: revoke the key. */
  | { kind: "revoke"; key: LeakMatch }
  /** The secret replaced by the last roll, still in its grace period: end the grace period. */
  | { kind: "expire_previous"; key: LeakMatch }
  /** Ours, but unusable already (key revoked, or a previous secret past its grace period). */
  | { kind: "already_dead"; key: LeakMatch };

/** What a leak of the secret with this hash calls for, pure. */
export function leakVerdict(hash: string, matches: readonly LeakMatch[]): LeakVerdict {
  const current = matches.find((m) => m.hash === hash);
  if (current)
    return current.revoked ? { kind: "already_dead", key: current } : { kind: "revoke", key: current };
  const previous = matches.find((m) => m.previousHash === hash);
  if (!previous) return { kind: "unknown" };
  return !previous.revoked && previous.previousInGrace
    ? { kind: "expire_previous", key: previous }
    : { kind: "already_dead", key: previous };
}

/** The marker an already-dead key should carry; re-writing it heals a marker write that failed earlier. */
export function deadKeyMarker(key: LeakMatch): MarkerValue {
  return key.revoked ? REVOKED_MARKER : key.version;
}

export interface LeakKill {
  kind: "revoke" | "expire_previous";
  keyId: string;
  /** Hash of the leaked secret. */
  hash: string;
  /** Where it leaked, for the audit trail (never the secret). */
  metadata: Record<string, unknown>;
}

/** Whether the secret with this hash still opens its key: a live key's current secret, or a previous one in its grace. */
export function isLiveSecret(hash: string, matches: readonly LeakMatch[]): boolean {
  const kind = leakVerdict(hash, matches).kind;
  return kind === "revoke" || kind === "expire_previous";
}

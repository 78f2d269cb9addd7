/**
 * Security events for a key's owner (docs/DESIGN.md#owner-events), pure: one versioned JSON
 * message per event. Never a secret in a message: keys appear by id and display start only.
 */
import type { Provider } from "../domain/providers";
import type { SecretFinding } from "../scanning/source-scan";

export const EVENT_TYPES = [
  "key.leak_revoked",
  "deploy.secrets_blocked",
  "key.expiring",
  "provider_key.rejected",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface OwnerEvent {
  version: 1;
  type: EventType;
  ownerId: string;
  /** ISO 8601 UTC. */
  occurredAt: string;
  keyId?: string;
  /** `vk_sk_` + 4 characters, as the dashboard shows it. */
  keyStart?: string;
  project?: { id: string; name: string };
  details: Record<string, unknown>;
}

const base = (type: EventType, ownerId: string, at: Date) => ({
  version: 1 as const,
  type,
  ownerId,
  occurredAt: at.toISOString(),
});

/** A reported leak revoked a key (`secret: "current"`) or ended its previous secret's grace. */
export function leakRevokedEvent(
  key: { id: string; ownerId: string; start: string; revoked: boolean },
  reporter: string,
  at: Date,
): OwnerEvent {
  return {
    ...base("key.leak_revoked", key.ownerId, at),
    keyId: key.id,
    keyStart: key.start,
    details: { reporter, secret: key.revoked ? "current" : "previous" },
  };
}

/** A deployment was refused for secrets in its files: where and what kind, never the secret. */
export function secretsBlockedEvent(
  ownerId: string,
  project: { id: string; name: string },
  keyId: string,
  secrets: SecretFinding[],
  overridable: boolean,
  at: Date,
): OwnerEvent {
  return {
    ...base("deploy.secrets_blocked", ownerId, at),
    keyId,
    project,
    details: { secrets, overridable },
  };
}

/** The key expires within 7 days (sent once per key and expiry). */
export function keyExpiringEvent(
  key: { id: string; ownerId: string; start: string; expiresAt: Date },
  at: Date,
): OwnerEvent {
  return {
    ...base("key.expiring", key.ownerId, at),
    keyId: key.id,
    keyStart: key.start,
    details: { expiresAt: key.expiresAt.toISOString() },
  };
}

/** The provider refused the owner's stored key (on use or at the health re-check): never its answer. */
export function providerKeyRejectedEvent(
  key: { ownerId: string; provider: Provider; hint: string | null },
  record: { via: "use" | "recheck"; status: number },
  at: Date,
): OwnerEvent {
  return {
    ...base("provider_key.rejected", key.ownerId, at),
    details: { provider: key.provider, hint: key.hint, via: record.via, status: record.status },
  };
}

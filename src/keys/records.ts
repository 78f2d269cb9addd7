import { z } from "@hono/zod-openapi";
import type { ApiKeyRow } from "../db/schema";
import { PERMISSIONS, type Permission } from "../domain/permissions";
import { maskedKey } from "./token";

export const KeyRecordSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    start: z.string().openapi({ example: "vk_sk_a7f9..." }),
    permissions: z.array(z.enum(PERMISSIONS)),
    rateLimit: z.number().int().openapi({ description: "Requests per minute" }),
    projects: z
      .array(z.uuid())
      .nullable()
      .openapi({ description: "The projects the key may reach; null = every project of its owner" }),
    enabled: z
      .boolean()
      .openapi({ description: "A disabled key answers 401 key_disabled until enabled again" }),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    expiresAt: z.iso.datetime().nullable(),
    expired: z.boolean(),
    expiring: z.boolean().openapi({ description: "Expires within 7 days (and has not yet)" }),
  })
  .openapi("ApiKey");
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** A key "expiring" is flagged this long before it expires. */
export const EXPIRING_WITHIN_MS = 7 * 86_400_000;

/** The API's view of a key: masked, never the key or its hash. */
export function toKeyRecord(row: ApiKeyRow, nowMs = Date.now()): KeyRecord {
  const expiresAtMs = row.expiresAt?.getTime() ?? null;
  const expired = expiresAtMs !== null && expiresAtMs <= nowMs;
  return {
    id: row.id,
    name: row.name,
    start: maskedKey(row.start),
    permissions: row.permissions as Permission[],
    rateLimit: row.rateLimit,
    projects: row.projects,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    expired,
    expiring: expiresAtMs !== null && !expired && expiresAtMs - nowMs <= EXPIRING_WITHIN_MS,
  };
}

/** Permissions as a set in canonical order. */
export function normalisePermissions(permissions: readonly Permission[]): Permission[] {
  return PERMISSIONS.filter((p) => permissions.includes(p));
}

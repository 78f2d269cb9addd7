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
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    expiresAt: z.iso.datetime().nullable(),
  })
  .openapi("ApiKey");
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The API's view of a key: masked, never the key or its hash. */
export function toKeyRecord(row: ApiKeyRow): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    start: maskedKey(row.start),
    permissions: row.permissions as Permission[],
    rateLimit: row.rateLimit,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
  };
}

/** Permissions as a set in canonical order. */
export function normalisePermissions(permissions: readonly Permission[]): Permission[] {
  return PERMISSIONS.filter((p) => permissions.includes(p));
}

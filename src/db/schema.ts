import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { ACCOUNT_RATE_LIMIT, MAX_KEY_PROJECTS, PERMISSIONS, RATE_LIMIT } from "../domain/permissions";
import { PROVIDER_KEY_STATUSES, PROVIDERS } from "../domain/providers";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const sqlTextArray = (values: readonly string[]) =>
  sql.raw(`ARRAY[${values.map((v) => `'${v}'`).join(", ")}]::text[]`);
const sqlTextList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));

/** Public API keys. The key itself is never stored: `hash` is SHA-256 hex of the whole key. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: text("owner_id").notNull(),
    name: text("name").notNull(),
    /** Display form, e.g. `vk_sk_a7f9` (shown as `vk_sk_a7f9...`). */
    start: text("start").notNull(),
    hash: text("hash").notNull().unique("api_keys_hash_key"),
    /** Hash of the secret replaced by the last roll, valid until `previousExpiresAt`. */
    previousHash: text("previous_hash").unique("api_keys_previous_hash_key"),
    previousExpiresAt: timestamptz("previous_expires_at"),
    permissions: text("permissions").array().notNull(),
    rateLimit: integer("rate_limit").notNull().default(RATE_LIMIT.default),
    /** Bumped in the same batch as every change; mirrored by the Redis marker (docs/DESIGN.md#the-key-check). */
    version: integer("version").notNull().default(1),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
    lastUsedAt: timestamptz("last_used_at"),
    expiresAt: timestamptz("expires_at"),
    revokedAt: timestamptz("revoked_at"),
    /** The projects the key may reach; null = every project of its owner (docs/DESIGN.md#project-scope). */
    projects: uuid("projects").array(),
    /** A disabled key answers 401 `key_disabled` until it is enabled again. */
    enabled: boolean("enabled").notNull().default(true),
  },
  (t) => [
    check("api_keys_name_length", sql`char_length(${t.name}) between 1 and 64`),
    check(
      "api_keys_permissions_known",
      sql`cardinality(${t.permissions}) > 0 and ${t.permissions} <@ ${sqlTextArray(PERMISSIONS)}`,
    ),
    check(
      "api_keys_rate_limit_range",
      sql`${t.rateLimit} between ${sql.raw(String(RATE_LIMIT.min))} and ${sql.raw(String(RATE_LIMIT.max))}`,
    ),
    check(
      "api_keys_projects_count",
      sql`${t.projects} is null or cardinality(${t.projects}) between 1 and ${sql.raw(String(MAX_KEY_PROJECTS))}`,
    ),
    index("api_keys_owner_active_idx")
      .on(t.ownerId, t.createdAt.desc(), t.id.desc())
      .where(sql`${t.revokedAt} is null`),
    // Keys about to expire, for the Cron Trigger's key.expiring notices.
    index("api_keys_expiring_idx")
      .on(t.expiresAt)
      .where(sql`${t.revokedAt} is null and ${t.expiresAt} is not null`),
  ],
);

/** Provider keys (bring your own model), sealed per docs/DESIGN.md#envelope-format; the master-key version lives in the envelope. */
export const providerKeys = pgTable(
  "provider_keys",
  {
    ownerId: text("owner_id").notNull(),
    provider: text("provider").notNull(),
    ciphertext: text("ciphertext").notNull(),
    /** Last 4 characters of the key, or null when the provider takes no key (Ollama without a token). */
    hint: text("hint"),
    baseUrl: text("base_url"),
    status: text("status").notNull().default("valid"),
    validatedAt: timestamptz("validated_at"),
    /** When the provider last gave a clear answer about the key (accepted at a save or re-check, or rejected). */
    lastCheckedAt: timestamptz("last_checked_at"),
    /** When a re-check last asked (whatever the answer): orders the health re-check (docs/DESIGN.md#provider-keys). */
    checkAttemptedAt: timestamptz("check_attempted_at").notNull().defaultNow(),
    /** When the provider refused the stored key (status `rejected`); cleared by a save. */
    rejectedAt: timestamptz("rejected_at"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "provider_keys_pkey", columns: [t.ownerId, t.provider] }),
    check("provider_keys_provider_known", sql`${t.provider} in (${sqlTextList(PROVIDERS)})`),
    check("provider_keys_status_known", sql`${t.status} in (${sqlTextList(PROVIDER_KEY_STATUSES)})`),
    check("provider_keys_rejected_at", sql`(${t.status} = 'rejected') = (${t.rejectedAt} is not null)`),
    index("provider_keys_recheck_idx").on(t.checkAttemptedAt).where(sql`${t.status} = 'valid'`),
  ],
);

/** Per-owner settings set by VULK (RPC `setAccountLimit`); no row = the defaults. */
export const accounts = pgTable(
  "accounts",
  {
    ownerId: text("owner_id").primaryKey(),
    /** Requests per minute across all the owner's keys; null = `ACCOUNT_RATE_LIMIT`. */
    rateLimit: integer("rate_limit"),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    check(
      "accounts_rate_limit_range",
      sql`${t.rateLimit} is null or ${t.rateLimit} between ${sql.raw(String(ACCOUNT_RATE_LIMIT.min))} and ${sql.raw(String(ACCOUNT_RATE_LIMIT.max))}`,
    ),
  ],
);

/** Requests per key per hour by outcome, rolled up from Redis by the Cron Trigger; kept 90 days. */
export const keyUsage = pgTable(
  "key_usage",
  {
    keyId: uuid("key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    /** The start of the hour (UTC). */
    hour: timestamptz("hour").notNull(),
    ok: integer("ok").notNull().default(0),
    denied: integer("denied").notNull().default(0),
    limited: integer("limited").notNull().default(0),
  },
  (t) => [
    primaryKey({ name: "key_usage_pkey", columns: [t.keyId, t.hour] }),
    index("key_usage_hour_idx").on(t.hour),
  ],
);

/** Append-only record of every key and provider-key change. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: text("owner_id").notNull(),
    /** Who acted: a user id, or `system:<what>` for RPC and automatic actions. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    targetId: text("target_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("audit_events_owner_idx").on(t.ownerId, t.createdAt.desc(), t.id.desc()),
    // The Cron Trigger's "announced already?" check for key.expiring (src/keys/expiring.ts).
    index("audit_events_key_expiring_idx").on(t.targetId).where(sql`${t.action} = 'key.expiring'`),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ProviderKeyRow = typeof providerKeys.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;

/** Projects reachable through `/v1`, owned by the owner of the calling key. */
export const projects = pgTable(
  "projects",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: text("owner_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    check("projects_name_length", sql`char_length(${t.name}) between 1 and 100`),
    index("projects_owner_idx").on(t.ownerId, t.createdAt.desc(), t.id.desc()),
  ],
);

export const projectFiles = pgTable(
  "project_files",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    content: text("content").notNull(),
    /** UTF-8 bytes of `content`, kept so the size caps are checked in SQL. */
    size: integer("size").notNull(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "project_files_pkey", columns: [t.projectId, t.path] }),
    check("project_files_path_length", sql`char_length(${t.path}) between 1 and 256`),
  ],
);

export const DEPLOYMENT_STATUSES = ["queued", "building", "live", "failed"] as const;

export const deployments = pgTable(
  "deployments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    ownerId: text("owner_id").notNull(),
    status: text("status").notNull().default("queued"),
    url: text("url").notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [
    check("deployments_status_known", sql`${t.status} in (${sqlTextList(DEPLOYMENT_STATUSES)})`),
    index("deployments_project_idx").on(t.projectId, t.createdAt.desc()),
  ],
);

export type ProjectRow = typeof projects.$inferSelect;
export type DeploymentRow = typeof deployments.$inferSelect;

import { z } from "zod";
import { ACCOUNT_RATE_LIMIT } from "../domain/permissions";
import { PROVIDERS, type Provider } from "../domain/providers";
import { decodeBase64 } from "../lib/base64";
import type { Logger } from "../observability/logger";
import { type KeyCheckTopology, regionsSetting } from "./regions";

/** Every binding, secret and var the Worker reads (docs/DESIGN.md#configuration). */
export interface Env {
  DATABASE_URL: string;
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  SESSION_SECRET: string;
  PROVIDER_KEYS_MASTER_KEYS: string;
  DASHBOARD_ORIGIN: string;
  ENVIRONMENT?: string;
  PROVIDER_BASE_URLS?: string;
  /** Requests per minute across all keys of an owner without a limit of their own. */
  ACCOUNT_RATE_LIMIT?: string;
  /** `single-primary` (default) or `leased` (docs/DESIGN.md#regions). */
  KEY_CHECK_TOPOLOGY?: string;
  /** Secret, JSON: the regional Upstash databases of the `leased` topology. */
  UPSTASH_REGIONS?: string;
  /** Provider keys re-checked per Cron run (docs/DESIGN.md#provider-keys). */
  PROVIDER_KEY_RECHECK_BATCH?: string;
  /** Days after which a stored provider key is checked with its provider again. */
  PROVIDER_KEY_RECHECK_DAYS?: string;
  /** Where GitHub publishes the keys that sign secret-scanning reports (tests point it at a fixture). */
  GITHUB_SCANNING_KEYS_URL?: string;
  /** Local only: point the Neon client at the local protocol server. */
  NEON_FETCH_ENDPOINT?: string;
  DEPLOY_QUEUE?: Queue;
  /** Optional: owner events (docs/DESIGN.md#owner-events) are sent there. */
  EVENTS_QUEUE?: Queue;
}

export interface MasterKey {
  version: number;
  /** 32 raw bytes; only ever fed to HKDF. */
  bytes: Uint8Array;
}

/** Env, checked and normalised once: the rest of the code never handles missing or raw values. */
export interface Config {
  environment: "production" | "development";
  databaseUrl: string;
  neonFetchEndpoint: string | undefined;
  redis: { url: string; token: string };
  sessionSecrets: string[];
  /** Highest version first: it seals; every listed version opens. */
  masterKeys: MasterKey[];
  dashboardOrigin: string;
  providerBaseUrls: Partial<Record<Provider, string>>;
  githubScanningKeysUrl: string;
  accountRateLimit: number;
  providerKeyRecheck: { batchSize: number; intervalDays: number };
  keyCheck: KeyCheckTopology;
}

/** The health re-check's defaults: 10,000 keys within 7 days at 20 a run (docs/DESIGN.md#configuration). */
export const PROVIDER_KEY_RECHECK = {
  batch: { min: 1, max: 500, default: 20 },
  days: { min: 1, max: 90, default: 7 },
} as const;

const boundedInt = (bounds: { min: number; max: number; default: number }) =>
  z.coerce.number().int().min(bounds.min).max(bounds.max).default(bounds.default);

const nonEmpty = z.string().trim().min(1, "is required");
const commaList = nonEmpty.transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

/** The value `.dev.vars.example` ships: a placeholder, never a secret. */
export const SESSION_SECRET_PLACEHOLDER = "replace-with-32-random-bytes-base64";
/** Bytes (UTF-8) each session secret must have at least: the HMAC-SHA-256 key size. */
export const SESSION_SECRET_MIN_BYTES = 32;

/** Every listed secret verifies, so every one must be a real secret of full strength. */
const sessionSecrets = commaList.superRefine((secrets, ctx) => {
  if (secrets.length === 0) ctx.addIssue({ code: "custom", message: "is required" });
  if (secrets.includes(SESSION_SECRET_PLACEHOLDER))
    ctx.addIssue({ code: "custom", message: "is the example placeholder, not a secret" });
  if (secrets.some((secret) => new TextEncoder().encode(secret).length < SESSION_SECRET_MIN_BYTES))
    ctx.addIssue({
      code: "custom",
      message: `each secret must be at least ${SESSION_SECRET_MIN_BYTES} bytes`,
    });
});

const masterKeys = commaList.transform((entries, ctx) => {
  const keys: MasterKey[] = [];
  for (const entry of entries) {
    const match = /^(\d+):([A-Za-z0-9+/]+={0,2})$/.exec(entry);
    const bytes = match?.[2] ? decodeBase64(match[2]) : undefined;
    if (!match || bytes?.length !== 32) {
      ctx.addIssue({ code: "custom", message: "each entry must be N:<base64 of 32 bytes>" });
      return z.NEVER;
    }
    keys.push({ version: Number(match[1]), bytes });
  }
  return keys.sort((a, b) => b.version - a.version);
});

const providerBaseUrls = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (!raw?.trim()) return {};
    try {
      return z.partialRecord(z.enum(PROVIDERS), z.url()).parse(JSON.parse(raw));
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON object of provider → URL" });
      return z.NEVER;
    }
  });

const envSchema = z
  .object({
    DATABASE_URL: nonEmpty,
    UPSTASH_REDIS_REST_URL: z.url(),
    UPSTASH_REDIS_REST_TOKEN: nonEmpty,
    SESSION_SECRET: sessionSecrets,
    PROVIDER_KEYS_MASTER_KEYS: masterKeys,
    DASHBOARD_ORIGIN: z.url(),
    ENVIRONMENT: z.enum(["production", "development"]).default("production"),
    PROVIDER_BASE_URLS: providerBaseUrls,
    GITHUB_SCANNING_KEYS_URL: z.url().default("https://api.github.com/meta/public_keys/secret_scanning"),
    NEON_FETCH_ENDPOINT: z.url().optional(),
    ACCOUNT_RATE_LIMIT: z.coerce
      .number()
      .int()
      .min(ACCOUNT_RATE_LIMIT.min)
      .max(ACCOUNT_RATE_LIMIT.max)
      .default(ACCOUNT_RATE_LIMIT.default),
    PROVIDER_KEY_RECHECK_BATCH: boundedInt(PROVIDER_KEY_RECHECK.batch),
    PROVIDER_KEY_RECHECK_DAYS: boundedInt(PROVIDER_KEY_RECHECK.days),
    KEY_CHECK_TOPOLOGY: z.enum(["single-primary", "leased"]).default("single-primary"),
    UPSTASH_REGIONS: regionsSetting,
  })
  .superRefine((e, ctx) => {
    if (e.KEY_CHECK_TOPOLOGY === "leased" && e.UPSTASH_REGIONS.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["UPSTASH_REGIONS"],
        message: "is required by the leased topology",
      });
  });

export class ConfigError extends Error {
  /** Names of the settings that are missing or invalid — never their values. */
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
  }
}

const cache = new WeakMap<object, Config>();

/** Checks env once per isolate (per env object) and returns the normalised config. */
export function loadConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const config: Config = {
    environment: e.ENVIRONMENT,
    databaseUrl: e.DATABASE_URL,
    neonFetchEndpoint: e.NEON_FETCH_ENDPOINT,
    redis: { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN },
    sessionSecrets: e.SESSION_SECRET,
    masterKeys: e.PROVIDER_KEYS_MASTER_KEYS,
    dashboardOrigin: new URL(e.DASHBOARD_ORIGIN).origin,
    providerBaseUrls: e.PROVIDER_BASE_URLS,
    githubScanningKeysUrl: e.GITHUB_SCANNING_KEYS_URL,
    accountRateLimit: e.ACCOUNT_RATE_LIMIT,
    providerKeyRecheck: {
      batchSize: e.PROVIDER_KEY_RECHECK_BATCH,
      intervalDays: e.PROVIDER_KEY_RECHECK_DAYS,
    },
    keyCheck:
      e.KEY_CHECK_TOPOLOGY === "leased"
        ? { topology: "leased", regions: e.UPSTASH_REGIONS }
        : { topology: "single-primary" },
  };
  cache.set(env, config);
  return config;
}

/**
 * `loadConfig` for an entry point: a problem is logged by the names involved (never their values)
 * and `undefined` comes back, so the caller only ever learns that the service is unavailable.
 */
export function loadConfigOrLog(env: Env, logger: Logger): Config | undefined {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.log("error", "config_invalid", { problems: error.problems });
    return undefined;
  }
}

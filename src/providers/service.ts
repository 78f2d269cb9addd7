/**
 * Provider keys (bring your own model): validate with the provider, seal, store; open for use.
 * A row that does not open is `needs_reentry` — never a crash, never a silent fallback.
 */
import type { Actor } from "../audit/events";
import type { Config } from "../config/env";
import { open, seal } from "../crypto/envelope";
import type { Database } from "../db/client";
import type { ProviderKeyRow } from "../db/schema";
import type { Provider, ProviderKeyStatus } from "../domain/providers";
import { checkProviderKey } from "./check";
import { effectiveBaseUrl, PROVIDER_REGISTRY, type ProviderDefinition, providerDefinition } from "./registry";
import {
  deleteProviderKey,
  findProviderKey,
  listProviderKeys,
  markNeedsReentry,
  upsertProviderKey,
} from "./repository";
import { checkUserUrl } from "./url-guard";

export interface ProviderCard {
  provider: Provider;
  label: string;
  configured: boolean;
  /** Last 4 characters of the key; never more. */
  hint: string | null;
  baseUrl: string | null;
  /** `valid` (shown as Active), `rejected` by the provider, `needs_reentry`; null when not configured. */
  status: ProviderKeyStatus | null;
  validatedAt: string | null;
  /** When the provider refused the stored key; null unless `rejected`. */
  rejectedAt: string | null;
  /** When the provider last gave a clear answer about the key (a save, a re-check, a rejection). */
  lastCheckedAt: string | null;
  acceptsBaseUrl: boolean;
  requiresKey: boolean;
}

export interface SaveInput {
  apiKey?: string | undefined;
  baseUrl?: string | undefined;
}

function statusOf(row: ProviderKeyRow | undefined, opens: boolean): ProviderKeyStatus | null {
  if (!row) return null;
  if (row.status === "rejected") return "rejected";
  return opens && row.status === "valid" ? "valid" : "needs_reentry";
}

function card(definition: ProviderDefinition, row: ProviderKeyRow | undefined, opens: boolean): ProviderCard {
  return {
    provider: definition.id,
    label: definition.label,
    configured: row !== undefined,
    hint: row?.hint ?? null,
    baseUrl: row?.baseUrl ?? null,
    status: statusOf(row, opens),
    validatedAt: row?.validatedAt?.toISOString() ?? null,
    rejectedAt: row?.rejectedAt?.toISOString() ?? null,
    lastCheckedAt: row?.lastCheckedAt?.toISOString() ?? null,
    acceptsBaseUrl: definition.baseUrl === null,
    requiresKey: definition.requiresKey,
  };
}

const sealContext = (row: Pick<ProviderKeyRow, "ownerId" | "provider" | "baseUrl">) => ({
  ownerId: row.ownerId,
  provider: row.provider,
  baseUrl: row.baseUrl,
});

/** Opens a stored key; a row that does not open is marked so the user is asked to enter it again. */
async function openRow(db: Database, config: Config, row: ProviderKeyRow): Promise<string | null> {
  if (row.status !== "valid") return null;
  const plaintext = await open(row.ciphertext, sealContext(row), config.masterKeys);
  if (plaintext === null) await markNeedsReentry(db, row);
  return plaintext;
}

/** All ten cards, in registry order. */
export async function providerCards(db: Database, config: Config, ownerId: string): Promise<ProviderCard[]> {
  const rows = new Map((await listProviderKeys(db, ownerId)).map((row) => [row.provider, row]));
  return Promise.all(
    PROVIDER_REGISTRY.map(async (definition) => {
      const row = rows.get(definition.id);
      return card(definition, row, row ? (await openRow(db, config, row)) !== null : false);
    }),
  );
}

/** Last 4 characters, only for keys long enough that 4 characters reveal little. */
const hintOf = (key: string) => (key.length >= 12 ? key.slice(-4) : null);

export interface CheckedInput {
  provider: Provider;
  key: string;
  baseUrl: string | null;
}

/** Why a save was refused before anything was sent anywhere (the route answers 400). */
export interface InputProblem {
  code: "invalid_request" | "invalid_url";
  detail: string;
  field: "apiKey" | "baseUrl";
  message: string;
}

export type InputCheck = { ok: true; input: CheckedInput } | ({ ok: false } & InputProblem);

/** The credential a save would check — decided before anything is sent anywhere. */
export function checkSaveInput(provider: Provider, input: SaveInput, config: Config): InputCheck {
  const definition = providerDefinition(provider);
  const key = input.apiKey ?? "";
  const refuse = (problem: InputProblem): InputCheck => ({ ok: false, ...problem });
  if (definition.requiresKey && !key) {
    const detail = `${definition.label} needs an API key.`;
    return refuse({ code: "invalid_request", detail, field: "apiKey", message: "is required" });
  }
  if (definition.baseUrl !== null) {
    if (input.baseUrl === undefined) return { ok: true, input: { provider, key, baseUrl: null } };
    const detail = `${definition.label} uses its own URL.`;
    return refuse({
      code: "invalid_request",
      detail,
      field: "baseUrl",
      message: "only Ollama and Custom take a URL",
    });
  }
  if (!input.baseUrl) {
    const detail = `${definition.label} needs the URL of your endpoint.`;
    return refuse({ code: "invalid_request", detail, field: "baseUrl", message: "is required" });
  }
  const checked = checkUserUrl(input.baseUrl, { allowLocalhost: config.environment === "development" });
  if (!checked.ok) {
    const detail = `The URL ${checked.reason}.`;
    return refuse({ code: "invalid_url", detail, field: "baseUrl", message: checked.reason });
  }
  return { ok: true, input: { provider, key, baseUrl: checked.url } };
}

export type SaveOutcome =
  | { ok: true; card: ProviderCard }
  | { ok: false; code: "provider_rejected_key" | "provider_unreachable"; detail: string };

/**
 * Validates with the provider first; only an accepted key is sealed and stored. The whole credential
 * is sent each time: a stored key is never carried over to a new URL.
 */
export async function saveProviderKey(
  db: Database,
  config: Config,
  ownerId: string,
  { provider, key, baseUrl }: CheckedInput,
  actor: Actor,
): Promise<SaveOutcome> {
  const definition = providerDefinition(provider);
  const target = effectiveBaseUrl(definition, config.providerBaseUrls, baseUrl) as string;
  const outcome = await checkProviderKey(definition, target, key);
  if (outcome.result === "rejected") {
    const detail = `${definition.label} did not accept this key. Nothing was saved.`;
    return { ok: false, code: "provider_rejected_key", detail };
  }
  if (outcome.result === "unreachable") {
    const detail = `${definition.label} ${outcome.reason}. Nothing was saved.`;
    return { ok: false, code: "provider_unreachable", detail };
  }
  const ciphertext = await seal(key, { ownerId, provider, baseUrl }, config.masterKeys);
  const row = await upsertProviderKey(
    db,
    ownerId,
    provider,
    { ciphertext, hint: key ? hintOf(key) : null, baseUrl },
    actor,
  );
  return { ok: true, card: card(definition, row, true) };
}

export function removeProviderKey(
  db: Database,
  ownerId: string,
  provider: Provider,
  actor: Actor,
): Promise<boolean> {
  return deleteProviderKey(db, ownerId, provider, actor);
}

export type Credential =
  | {
      kind: "usable";
      definition: ProviderDefinition;
      key: string;
      baseUrl: string;
      hint: string | null;
      /** The row it was opened from: a rejection applies only while it is still stored. */
      row: ProviderKeyRow;
    }
  | { kind: "none"; definition: ProviderDefinition }
  | { kind: "needs_reentry"; definition: ProviderDefinition }
  | { kind: "rejected"; definition: ProviderDefinition; rejectedAt: Date };

/** What a generation request for this user and provider may use — decided inside this Worker. */
export async function credentialFor(
  db: Database,
  config: Config,
  ownerId: string,
  provider: Provider,
): Promise<Credential> {
  const definition = providerDefinition(provider);
  const row = await findProviderKey(db, ownerId, provider);
  if (!row) return { kind: "none", definition };
  if (row.status === "rejected" && row.rejectedAt)
    return { kind: "rejected", definition, rejectedAt: row.rejectedAt };
  return storedCredential(db, config, definition, row);
}

/** A stored row as a credential to send: opened, and its user URL allowed under today's rules. */
export async function storedCredential(
  db: Database,
  config: Config,
  definition: ProviderDefinition,
  row: ProviderKeyRow,
): Promise<Credential> {
  const key = await openRow(db, config, row);
  const baseUrl = effectiveBaseUrl(definition, config.providerBaseUrls, row.baseUrl);
  // A user URL is checked again at use: it may have been stored under other rules.
  const urlStillAllowed =
    definition.baseUrl !== null ||
    (baseUrl !== null && checkUserUrl(baseUrl, { allowLocalhost: config.environment === "development" }).ok);
  if (key === null || baseUrl === null || !urlStillAllowed) return { kind: "needs_reentry", definition };
  return { kind: "usable", definition, key, baseUrl, hint: row.hint, row };
}

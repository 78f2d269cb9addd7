/**
 * GitHub's secret-scanning public keys, as published at config.githubScanningKeysUrl:
 * `{"public_keys": [{"key_identifier", "key" (PEM SPKI, ECDSA P-256), "is_current"}]}`.
 * Kept per isolate (plain data and CryptoKeys only; no I/O object crosses requests).
 */
import { z } from "zod";
import { decodeBase64 } from "../lib/base64";
import type { Logger } from "../observability/logger";

/** A fetched key list is used this long before it is fetched again. */
export const KEYS_TTL_MS = 60 * 60_000;
/**
 * The key list is fetched at most this often. Identifiers arrive unauthenticated, so an unknown one
 * may trigger a refresh only this rarely (api.github.com allows few unauthenticated requests an hour).
 */
export const MIN_REFRESH_INTERVAL_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_CHARS = 64 * 1024;

const KeysDocumentSchema = z.object({
  public_keys: z.array(z.object({ key_identifier: z.string().min(1), key: z.string().min(1) })),
});

export type PublicKeys = ReadonlyMap<string, CryptoKey>;
/** Fetches and imports the current key list; throws when none can be had. */
export type LoadPublicKeys = (url: string, logger: Logger) => Promise<PublicKeys>;

export interface KeyringState {
  /** When the cached list was fetched; `null` before the first successful fetch. */
  fetchedAtMs: number | null;
  /** When the last fetch attempt (successful or not) ended. */
  lastAttemptMs: number | null;
  knowsIdentifier: boolean;
}

export type KeyringStep = "use_cached" | "refresh" | "unknown" | "unavailable";

/** What to do for one identifier, pure: use the cache, fetch the list again, or give up. */
export function nextKeyringStep(state: KeyringState, nowMs: number): KeyringStep {
  const fresh = state.fetchedAtMs !== null && nowMs - state.fetchedAtMs < KEYS_TTL_MS;
  if (state.knowsIdentifier && fresh) return "use_cached";
  const throttled = state.lastAttemptMs !== null && nowMs - state.lastAttemptMs < MIN_REFRESH_INTERVAL_MS;
  if (!throttled) return "refresh";
  // A stale key is still GitHub's key: better than refusing while the list cannot be refreshed.
  if (state.knowsIdentifier) return "use_cached";
  return state.fetchedAtMs === null ? "unavailable" : "unknown";
}

export class KeysUnavailableError extends Error {}

/** The key list of one URL, cached, refreshed after KEYS_TTL_MS or (throttled) on an unknown identifier. */
export class GithubKeyring {
  private keys: PublicKeys = new Map();
  private fetchedAtMs: number | null = null;
  private lastAttemptMs: number | null = null;

  constructor(
    private readonly url: string,
    private readonly load: LoadPublicKeys = loadPublicKeys,
  ) {}

  /**
   * GitHub's key for `identifier`, or `undefined` when GitHub does not publish it. Throws
   * KeysUnavailableError when the list cannot be fetched and no cached key applies.
   */
  async keyFor(identifier: string, nowMs: number, logger: Logger): Promise<CryptoKey | undefined> {
    const step = nextKeyringStep(this.state(identifier), nowMs);
    if (step === "use_cached") return this.keys.get(identifier);
    if (step === "unknown") return undefined;
    if (step === "unavailable") throw new KeysUnavailableError("no GitHub key list yet");
    try {
      this.keys = await this.load(this.url, logger);
      this.fetchedAtMs = nowMs;
    } catch (error) {
      logger.log("error", "github_keys_unavailable", { error });
      const stale = this.keys.get(identifier);
      if (stale) return stale;
      throw new KeysUnavailableError("the GitHub key list could not be fetched");
    } finally {
      this.lastAttemptMs = nowMs;
    }
    return this.keys.get(identifier);
  }

  private state(identifier: string): KeyringState {
    return {
      fetchedAtMs: this.fetchedAtMs,
      lastAttemptMs: this.lastAttemptMs,
      knowsIdentifier: this.keys.has(identifier),
    };
  }
}

const keyrings = new Map<string, GithubKeyring>();

/** This isolate's keyring for `url`. */
export function githubKeyring(url: string): GithubKeyring {
  let keyring = keyrings.get(url);
  if (!keyring) {
    keyring = new GithubKeyring(url);
    keyrings.set(url, keyring);
  }
  return keyring;
}

/** Fetches the key document and imports every usable key; keys that do not import are skipped. */
export async function loadPublicKeys(url: string, logger: Logger): Promise<PublicKeys> {
  const response = await fetch(url, {
    // api.github.com refuses requests without a User-Agent.
    headers: { Accept: "application/json", "User-Agent": "vulk-keys" },
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`key list answered ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_DOCUMENT_CHARS) throw new Error("key list is too large");
  const document = KeysDocumentSchema.parse(JSON.parse(text));
  const keys = new Map<string, CryptoKey>();
  for (const { key_identifier: identifier, key } of document.public_keys) {
    const imported = await importPemKey(key).catch(() => undefined);
    if (imported) keys.set(identifier, imported);
    else logger.log("warn", "github_key_unusable", { identifier });
  }
  if (keys.size === 0) throw new Error("key list has no usable key");
  return keys;
}

/** A PEM `PUBLIC KEY` (SPKI) as a P-256 ECDSA verification key. */
export async function importPemKey(pem: string): Promise<CryptoKey> {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!match?.[1]) throw new Error("not a PEM public key");
  const der = decodeBase64(match[1].replace(/\s+/g, ""));
  if (!der) throw new Error("not a PEM public key");
  return crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
}

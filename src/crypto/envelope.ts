/**
 * Provider-key envelopes (docs/DESIGN.md#envelope-format): `v<N>.<base64url(iv)>.<base64url(ciphertext ‖ tag)>`,
 * AES-256-GCM under HKDF-SHA-256(master N, salt = empty, info = "vulk-keys provider-key v1"),
 * a fresh 12-byte IV per seal, AAD binding the ciphertext to owner, provider and base URL.
 */
import type { MasterKey } from "../config/env";
import { decodeBase64url, encodeBase64url } from "../lib/base64";

const INFO = new TextEncoder().encode("vulk-keys provider-key v1");
const IV_BYTES = 12;
const ENVELOPE = /^v(\d+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

export interface SealContext {
  ownerId: string;
  provider: string;
  /** Exactly as stored; `null` for providers without a user URL. */
  baseUrl: string | null;
}

/** Non-extractable AES keys, derived once per master key (config objects live as long as the isolate). */
const derived = new WeakMap<MasterKey, Promise<CryptoKey>>();

function aesKey(master: MasterKey): Promise<CryptoKey> {
  let key = derived.get(master);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", master.bytes, "HKDF", false, ["deriveKey"])
      .then((hkdf) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: INFO },
          hkdf,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
    derived.set(master, key);
  }
  return key;
}

const aad = ({ ownerId, provider, baseUrl }: SealContext) =>
  new TextEncoder().encode(`${ownerId}\n${provider}\n${baseUrl ?? ""}`);

/** Seals under the highest master-key version (masterKeys is sorted highest first). */
export async function seal(
  plaintext: string,
  context: SealContext,
  masterKeys: readonly MasterKey[],
): Promise<string> {
  const [master] = masterKeys;
  if (!master) throw new Error("no master key configured");
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(context) },
    await aesKey(master),
    new TextEncoder().encode(plaintext),
  );
  return `v${master.version}.${encodeBase64url(iv)}.${encodeBase64url(new Uint8Array(sealed))}`;
}

/** The version an envelope was sealed under, or `undefined` for a malformed one. */
export function envelopeVersion(envelope: string): number | undefined {
  const match = ENVELOPE.exec(envelope);
  return match ? Number(match[1]) : undefined;
}

/**
 * The plaintext, or `null` when the envelope does not open (unknown version, tampered, or moved to
 * another owner/provider/URL). Never throws.
 */
export async function open(
  envelope: string,
  context: SealContext,
  masterKeys: readonly MasterKey[],
): Promise<string | null> {
  const match = ENVELOPE.exec(envelope);
  const master = match && masterKeys.find((k) => k.version === Number(match[1]));
  if (!match || !master) return null;
  const iv = decodeBase64url(match[2] as string);
  const sealed = decodeBase64url(match[3] as string);
  if (iv?.length !== IV_BYTES || !sealed) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: aad(context) },
      await aesKey(master),
      sealed,
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

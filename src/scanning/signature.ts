/**
 * The authentication of a GitHub secret-scanning report: an ECDSA P-256 / SHA-256 signature over the
 * raw body bytes, base64 DER in `Github-Public-Key-Signature`, made with the published key named by
 * `Github-Public-Key-Identifier`.
 */
import { decodeBase64 } from "../lib/base64";
import type { Logger } from "../observability/logger";
import { derToP1363 } from "./ecdsa-der";
import { type GithubKeyring, KeysUnavailableError } from "./github-keys";

export const IDENTIFIER_HEADER = "Github-Public-Key-Identifier";
export const SIGNATURE_HEADER = "Github-Public-Key-Signature";

/** Bounds what an unauthenticated caller can make us look up (GitHub's identifiers are hex digests). */
const IDENTIFIER = /^[A-Za-z0-9._-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]{4,200}={0,2}$/;

export interface SignedReport {
  identifier: string | undefined;
  signature: string | undefined;
  body: Uint8Array;
}

/**
 * `signed` when GitHub signed `body`; `rejected` (logged with the reason) when not; `keys_unavailable`
 * when GitHub's keys cannot be had — GitHub retries a failed delivery, which beats refusing a genuine
 * report for good.
 */
export type SignatureCheck = "signed" | "rejected" | "keys_unavailable";

export async function checkReportSignature(
  report: SignedReport,
  keyring: GithubKeyring,
  nowMs: number,
  logger: Logger,
): Promise<SignatureCheck> {
  const reason = await rejectionReason(report, keyring, nowMs, logger);
  if (reason === null) return "signed";
  if (reason === "keys_unavailable") return reason;
  logger.log("warn", "scanning_signature_rejected", { reason });
  return "rejected";
}

async function rejectionReason(
  { identifier, signature, body }: SignedReport,
  keyring: GithubKeyring,
  nowMs: number,
  logger: Logger,
): Promise<string | null> {
  if (!identifier || !signature) return "missing_headers";
  if (!IDENTIFIER.test(identifier)) return "malformed_identifier";
  const der = BASE64.test(signature) ? decodeBase64(signature) : undefined;
  const raw = der && derToP1363(der);
  if (!raw) return "malformed_signature";
  let key: CryptoKey | undefined;
  try {
    key = await keyring.keyFor(identifier, nowMs, logger);
  } catch (error) {
    if (!(error instanceof KeysUnavailableError)) throw error;
    return "keys_unavailable";
  }
  if (!key) return "unknown_identifier";
  const valid = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, body);
  return valid ? null : "bad_signature";
}

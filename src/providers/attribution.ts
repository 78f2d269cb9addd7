/**
 * Which credential a generation request is billed to (docs/DESIGN.md#rpc), pure: the
 * `X-Vulk-Billing` header of `providerFetch`, the same mapping as `providerRoute`'s `billing`.
 */
import type { Credential } from "./service";

export type Billing = "byom" | "credits" | "blocked";

export const BILLING_HEADER = "X-Vulk-Billing";
export const KEY_HINT_HEADER = "X-Vulk-Key-Hint";

export function billingOf(credential: Credential): Billing {
  if (credential.kind === "usable") return "byom";
  if (credential.kind === "none") return "credits";
  return "blocked";
}

/**
 * The headers every `providerFetch` answer carries once the credential is known. The hint is the
 * key's last four characters, exactly as the card and `providerRoute` show them (a header value is
 * ASCII, so no ellipsis); absent for a key too short to have one.
 */
export function attributionHeaders(credential: Credential): Record<string, string> {
  const headers: Record<string, string> = { [BILLING_HEADER]: billingOf(credential) };
  if (credential.kind === "usable" && credential.hint) headers[KEY_HINT_HEADER] = credential.hint;
  return headers;
}

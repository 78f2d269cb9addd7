/**
 * Whether a provider's answer to a request sent with a stored key means "this key is no longer
 * accepted" (docs/DESIGN.md#provider-keys). Pure, and by status alone: the body of an answer to a
 * use belongs to the caller's request and is never read here. One row per provider, from the
 * error codes its API documents for a missing, wrong or revoked key.
 */
import type { Provider } from "../domain/providers";

const BAD_KEY_STATUSES: Record<Provider, readonly number[]> = {
  // 401 "Invalid Authentication" / "Incorrect API key provided"; its 403 is an unsupported region.
  openai: [401],
  // 401 `authentication_error`; its 403 `permission_error` is about the resource, not the key.
  anthropic: [401],
  // 403 PERMISSION_DENIED "your API key doesn't have the required permissions". Its 400
  // API_KEY_INVALID needs the body, so the health re-check finds that one.
  gemini: [401, 403],
  // 401 "Authentication Fails" (wrong API key).
  deepseek: [401],
  groq: [401],
  mistral: [401],
  together: [401],
  // 401 and 403 for a key that is invalid or lacks access, as its key check answers.
  fireworks: [401, 403],
  // A user's endpoint: only 401 says "credential refused"; a 403 may be any route rule of theirs.
  ollama: [401],
  custom: [401],
};

export function isBadKeyAnswer(provider: Provider, status: number): boolean {
  return BAD_KEY_STATUSES[provider].includes(status);
}

/**
 * Asks a provider whether a key works, spending no tokens (a models list or version call).
 * Redirects are not followed, the call gives up after 5 s, and at most 4 KB of the answer is read —
 * and none of it is ever shown to the caller.
 */
import { joinUrl, type ProviderDefinition } from "./registry";

export const PROVIDER_CHECK_TIMEOUT_MS = 5000;
const MAX_READ_BYTES = 4096;

export type CheckOutcome =
  | { result: "accepted" }
  | { result: "rejected"; status: number }
  | { result: "unreachable"; reason: string };

/** The first `limit` bytes of a body as text; the rest is cancelled, never buffered. */
export async function readPrefix(
  body: ReadableStream<Uint8Array> | null,
  limit = MAX_READ_BYTES,
): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value.subarray(0, limit - size));
      size += Math.min(value.length, limit - size);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

export async function checkProviderKey(
  definition: ProviderDefinition,
  baseUrl: string,
  key: string,
): Promise<CheckOutcome> {
  let response: Response;
  try {
    response = await fetch(joinUrl(baseUrl, definition.checkPath), {
      method: "GET",
      headers: { Accept: "application/json", ...definition.authHeaders(key) },
      redirect: "manual",
      signal: AbortSignal.timeout(PROVIDER_CHECK_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { result: "unreachable", reason: timedOut ? "did not answer within 5 s" : "could not be reached" };
  }
  const bodyStart = await readPrefix(response.body).catch(() => "");
  if (response.status >= 200 && response.status < 300) {
    // A models list is a JSON object or array; anything else is not the API we were told it is.
    if (definition.id === "custom" && !/^\s*[[{]/.test(bodyStart)) {
      return { result: "unreachable", reason: "did not answer like an OpenAI-compatible API" };
    }
    return { result: "accepted" };
  }
  if (definition.rejects(response.status, bodyStart)) return { result: "rejected", status: response.status };
  if (response.status >= 300 && response.status < 400)
    return { result: "unreachable", reason: "answered with a redirect, which is not followed" };
  return { result: "unreachable", reason: `answered HTTP ${response.status}` };
}

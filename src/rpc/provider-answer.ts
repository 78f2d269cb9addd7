/**
 * What `providerFetch` hands back for an upstream answer (docs/DESIGN.md#rpc): the provider's
 * status and stream with our attribution headers — except a bad-key answer, whose body (providers
 * echo the key in it) is replaced by a problem body that keeps the provider's status.
 */
import { ApiError, problemBody } from "../http/errors";

/** The provider's answer, streamed as it arrives; its cookies and any `X-Vulk-*` of its own dropped. */
export function passThrough(upstream: Response, attribution: Record<string, string>): Response {
  const headers = new Headers(upstream.headers);
  headers.delete("set-cookie");
  for (const name of [...headers.keys()]) if (name.startsWith("x-vulk-")) headers.delete(name);
  for (const [name, value] of Object.entries(attribution)) headers.set(name, value);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}

/**
 * A bad-key status: the provider's status, our words, never its body. `rejected` says whether the
 * key check confirmed it (the key is now `rejected`) or the key still works for listing models.
 */
export function refusedAnswer(
  status: number,
  label: string,
  rejected: boolean,
  requestId: string,
  attribution: Record<string, string>,
): Response {
  const detail = rejected
    ? `${label} no longer accepts the stored key. Save the key again in Settings.`
    : `${label} refused this request with HTTP ${status}; the stored key itself is still accepted.`;
  const body = { ...problemBody(new ApiError("provider_rejected_key", detail), requestId), status };
  const headers = new Headers(attribution);
  headers.set("Content-Type", "application/problem+json");
  headers.set("X-Request-Id", requestId);
  return new Response(JSON.stringify(body), { status, headers });
}

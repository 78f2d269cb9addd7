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

/** A refused key: the provider's status, our words, never its body. */
export async function rejectedKeyAnswer(
  upstream: Response,
  label: string,
  requestId: string,
  attribution: Record<string, string>,
): Promise<Response> {
  await upstream.body?.cancel().catch(() => undefined);
  const detail = `${label} no longer accepts the stored key. Save the key again in Settings.`;
  const body = {
    ...problemBody(new ApiError("provider_rejected_key", detail), requestId),
    status: upstream.status,
  };
  const headers = new Headers(attribution);
  headers.set("Content-Type", "application/problem+json");
  headers.set("X-Request-Id", requestId);
  return new Response(JSON.stringify(body), { status: upstream.status, headers });
}

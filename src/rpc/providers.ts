/**
 * Generation routing for other VULK Workers (DESIGN §8). The plaintext key never leaves this
 * Worker: `providerFetch` attaches it here and streams the provider's answer back.
 */
import type { Config } from "../config/env";
import { createDb } from "../db/client";
import { PROVIDERS, type Provider } from "../domain/providers";
import { ApiError, problemResponse } from "../http/errors";
import { hasControlCharacters } from "../lib/text";
import type { Logger } from "../observability/logger";
import { joinUrl } from "../providers/registry";
import { credentialFor } from "../providers/service";

export type ProviderRoute =
  | { billing: "byom"; provider: Provider; keyHint: string | null }
  | { billing: "credits"; provider: Provider }
  | { billing: "blocked"; provider: Provider; code: "needs_reentry" };

export interface ProviderFetchInit {
  method?: string;
  headers?: Record<string, string> | [string, string][];
  body?: BodyInit | null;
}

/** Caller headers that could carry someone's credentials or confuse the upstream. */
const DROPPED_HEADERS = [
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  "cookie",
  "host",
];

function asProvider(value: unknown): Provider {
  if (typeof value !== "string" || !(PROVIDERS as readonly string[]).includes(value)) {
    throw new ApiError("invalid_request", "Unknown provider.");
  }
  return value as Provider;
}

/** Why an upstream path is refused, or null: relative, no scheme, no `//`, no `..` (also encoded). */
export function upstreamPathProblem(path: string): string | null {
  if (typeof path !== "string" || path.length === 0 || path.length > 2048)
    return "must be a non-empty string";
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return "must not have a scheme";
  if (path.includes("\\") || hasControlCharacters(path))
    return "must not contain backslashes or control characters";
  const [pathname = ""] = path.split("?");
  if (pathname.startsWith("//") || pathname.includes("//")) return "must not contain //";
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return "is not valid percent-encoding";
  }
  if (decoded.split("/").some((segment) => segment === ".." || segment === "."))
    return "must not contain . or .. segments";
  return null;
}

export async function providerRoute(
  config: Config,
  ownerId: unknown,
  provider: unknown,
): Promise<ProviderRoute> {
  const id = asProvider(provider);
  if (typeof ownerId !== "string" || !ownerId) throw new ApiError("invalid_request", "ownerId is required.");
  const credential = await credentialFor(createDb(config), config, ownerId, id);
  if (credential.kind === "usable") return { billing: "byom", provider: id, keyHint: credential.hint };
  if (credential.kind === "needs_reentry") return { billing: "blocked", provider: id, code: "needs_reentry" };
  return { billing: "credits", provider: id };
}

/** Never throws: every refusal is a problem+json Response, and never the platform's key. */
export async function providerFetch(
  config: Config,
  logger: Logger,
  ownerId: unknown,
  provider: unknown,
  path: unknown,
  init: ProviderFetchInit = {},
): Promise<Response> {
  const requestId = crypto.randomUUID();
  try {
    const id = asProvider(provider);
    if (typeof ownerId !== "string" || !ownerId)
      throw new ApiError("invalid_request", "ownerId is required.");
    const problem = upstreamPathProblem(path as string);
    if (problem) throw new ApiError("invalid_request", `The path ${problem}.`);
    const credential = await credentialFor(createDb(config), config, ownerId, id);
    if (credential.kind === "none")
      throw new ApiError("not_found", `No ${credential.definition.label} key is configured for this user.`);
    if (credential.kind === "needs_reentry") {
      throw new ApiError(
        "needs_reentry",
        `The ${credential.definition.label} key must be entered again in Settings.`,
      );
    }
    const headers = new Headers(init.headers);
    for (const name of DROPPED_HEADERS) headers.delete(name);
    for (const [name, value] of Object.entries(credential.definition.authHeaders(credential.key)))
      headers.set(name, value);
    let upstream: Response;
    try {
      upstream = await fetch(joinUrl(credential.baseUrl, path as string), {
        method: init.method ?? "POST",
        headers,
        body: init.body ?? null,
        redirect: "manual",
      });
    } catch (error) {
      throw new ApiError("provider_unreachable", `${credential.definition.label} could not be reached.`, {
        internal: error,
      });
    }
    // Streamed through as it arrives; cookies from the provider are not passed on.
    const responseHeaders = new Headers(upstream.headers);
    responseHeaders.delete("set-cookie");
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: responseHeaders,
    });
  } catch (error) {
    const apiError =
      error instanceof ApiError ? error : new ApiError("internal_error", "An internal error occurred.");
    if (apiError.status >= 500)
      logger.log("error", "provider_fetch_failed", { error: apiError.options.internal ?? error });
    return problemResponse(apiError, requestId);
  }
}

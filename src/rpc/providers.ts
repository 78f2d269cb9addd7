/**
 * Generation routing for other VULK Workers (docs/DESIGN.md#provider-keys). The plaintext key never
 * leaves this Worker: `providerFetch` attaches it here and streams the provider's answer back.
 */

import { PROVIDERS, type Provider } from "../domain/providers";
import { ApiError, problemResponse } from "../http/errors";
import { hasControlCharacters } from "../lib/text";
import { attributionHeaders } from "../providers/attribution";
import { isBadKeyAnswer } from "../providers/bad-key";
import { joinUrl } from "../providers/registry";
import { rejectionOnUse } from "../providers/rejection";
import { type Credential, credentialFor } from "../providers/service";
import { failureOf, type RpcContext, type RpcFailure, rpcFailure, textArgument } from "./contract";
import { passThrough, refusedAnswer } from "./provider-answer";

export type ProviderRoute =
  | { ok: true; billing: "byom"; provider: Provider; keyHint: string | null }
  | { ok: true; billing: "credits"; provider: Provider }
  | { ok: true; billing: "blocked"; provider: Provider; code: "needs_reentry" | "provider_rejected_key" };

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

function asProvider(value: unknown): Provider | undefined {
  return typeof value === "string" && (PROVIDERS as readonly string[]).includes(value)
    ? (value as Provider)
    : undefined;
}

const UNKNOWN_PROVIDER = `Unknown provider; one of ${PROVIDERS.join(", ")}.`;
const OWNER_REQUIRED = "ownerId must be a non-empty string.";

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
  ctx: RpcContext,
  ownerId: unknown,
  provider: unknown,
): Promise<ProviderRoute | RpcFailure> {
  const id = asProvider(provider);
  if (!id) return rpcFailure("invalid_request", UNKNOWN_PROVIDER);
  const owner = textArgument(ownerId);
  if (!owner) return rpcFailure("invalid_request", OWNER_REQUIRED);
  const credential = await credentialFor(ctx.stores.db, ctx.config, owner, id);
  if (credential.kind === "usable")
    return { ok: true, billing: "byom", provider: id, keyHint: credential.hint };
  if (credential.kind === "needs_reentry") {
    return { ok: true, billing: "blocked", provider: id, code: "needs_reentry" };
  }
  if (credential.kind === "rejected") {
    return { ok: true, billing: "blocked", provider: id, code: "provider_rejected_key" };
  }
  return { ok: true, billing: "credits", provider: id };
}

/** Why a credential cannot be sent, as the problem `providerFetch` answers. */
function refusalFor(credential: Exclude<Credential, { kind: "usable" }>): ApiError {
  const { label } = credential.definition;
  switch (credential.kind) {
    case "none":
      return new ApiError("not_found", `No ${label} key is configured for this user.`);
    case "needs_reentry":
      return new ApiError("needs_reentry", `The ${label} key must be entered again in Settings.`);
    case "rejected":
      return new ApiError(
        "provider_rejected_key",
        `${label} rejected the stored key on ${credential.rejectedAt.toISOString().slice(0, 10)}. Save the key again in Settings.`,
      );
  }
}

/** Never throws: every refusal is a problem+json Response, and never the platform's key. */
export async function providerFetch(
  ctx: RpcContext,
  ownerId: unknown,
  provider: unknown,
  path: unknown,
  init: ProviderFetchInit = {},
): Promise<Response> {
  const requestId = crypto.randomUUID();
  // Set once the credential is known: from then on every answer, problem or not, carries it.
  let attribution: Record<string, string> = {};
  try {
    const id = asProvider(provider);
    if (!id) throw new ApiError("invalid_request", UNKNOWN_PROVIDER);
    const owner = textArgument(ownerId);
    if (!owner) throw new ApiError("invalid_request", OWNER_REQUIRED);
    const problem = upstreamPathProblem(path as string);
    if (problem) throw new ApiError("invalid_request", `The path ${problem}.`);
    const method = init?.method ?? "POST";
    if (typeof method !== "string" || !/^[A-Z]{3,7}$/.test(method)) {
      throw new ApiError("invalid_request", "init.method must be an HTTP method in upper case.");
    }
    let headers: Headers;
    try {
      headers = new Headers(init?.headers);
    } catch {
      throw new ApiError("invalid_request", "init.headers is not a valid list of headers.");
    }
    const credential = await credentialFor(ctx.stores.db, ctx.config, owner, id);
    attribution = attributionHeaders(credential);
    if (credential.kind !== "usable") throw refusalFor(credential);
    for (const name of DROPPED_HEADERS) headers.delete(name);
    for (const [name, value] of Object.entries(credential.definition.authHeaders(credential.key)))
      headers.set(name, value);
    let upstream: Response;
    try {
      upstream = await fetch(joinUrl(credential.baseUrl, path as string), {
        method,
        headers,
        body: init?.body ?? null,
        redirect: "manual",
      });
    } catch (error) {
      throw new ApiError("provider_unreachable", `${credential.definition.label} could not be reached.`, {
        internal: error,
      });
    }
    if (isBadKeyAnswer(id, upstream.status)) {
      // Its body may echo the key: dropped before anything else is asked.
      await upstream.body?.cancel().catch(() => undefined);
      const rejected = await rejectionOnUseLogged(ctx, credential, upstream.status);
      return refusedAnswer(upstream.status, credential.definition.label, rejected, requestId, attribution);
    }
    return passThrough(upstream, attribution);
  } catch (error) {
    const failure = failureOf(error, ctx.logger);
    return problemResponse(new ApiError(failure.code, failure.detail), requestId, attribution);
  }
}

/** A store that cannot record the rejection must not hide the provider's answer: logged, not thrown. */
async function rejectionOnUseLogged(
  ctx: RpcContext,
  credential: Extract<Credential, { kind: "usable" }>,
  status: number,
): Promise<boolean> {
  const deps = { db: ctx.stores.db, queue: ctx.events, logger: ctx.logger };
  try {
    return await rejectionOnUse(deps, credential, status);
  } catch (error) {
    ctx.logger.log("error", "provider_key_reject_failed", { provider: credential.definition.id, error });
    return false;
  }
}

/**
 * The model providers a user can bring a key for (docs/DESIGN.md#api-keys, #provider-keys): one definition each — where it
 * lives, how a key is checked without spending tokens, how the key is sent, what "invalid" looks like.
 */
import { PROVIDERS, type Provider } from "../domain/providers";

export interface ProviderDefinition {
  id: Provider;
  label: string;
  /** Registry base URL; `null` for providers that take a user URL (Ollama, Custom). */
  baseUrl: string | null;
  /** Whether a key is required (Ollama and Custom take an optional bearer token). */
  requiresKey: boolean;
  /** The check request: a GET relative to the base URL that lists models or the version. */
  checkPath: string;
  /** Headers that carry the key (never a query parameter). */
  authHeaders(key: string): Record<string, string>;
  /** Whether an answer means "this key is not valid" (as opposed to "could not check"). */
  rejects(status: number, bodyStart: string): boolean;
}

const bearer = (key: string): Record<string, string> => ({ Authorization: `Bearer ${key}` });
const optionalBearer = (key: string): Record<string, string> => (key ? bearer(key) : {});
const unauthorized = (status: number) => status === 401;
const unauthorizedOrForbidden = (status: number) => status === 401 || status === 403;

const definitions: Record<Provider, Omit<ProviderDefinition, "id">> = {
  openai: {
    label: "OpenAI",
    baseUrl: "https://api.openai.com/v1",
    requiresKey: true,
    checkPath: "/models",
    authHeaders: bearer,
    rejects: unauthorized,
  },
  anthropic: {
    label: "Claude (Anthropic)",
    baseUrl: "https://api.anthropic.com",
    requiresKey: true,
    checkPath: "/v1/models",
    authHeaders: (key) => ({ "x-api-key": key, "anthropic-version": "2023-06-01" }),
    rejects: unauthorized,
  },
  gemini: {
    label: "Gemini",
    baseUrl: "https://generativelanguage.googleapis.com",
    requiresKey: true,
    checkPath: "/v1beta/models",
    authHeaders: (key) => ({ "x-goog-api-key": key }),
    rejects: (status, body) =>
      (status === 400 && body.includes("API_KEY_INVALID")) || unauthorizedOrForbidden(status),
  },
  deepseek: {
    label: "DeepSeek",
    baseUrl: "https://api.deepseek.com",
    requiresKey: true,
    checkPath: "/models",
    authHeaders: bearer,
    rejects: unauthorized,
  },
  groq: {
    label: "Groq",
    baseUrl: "https://api.groq.com/openai/v1",
    requiresKey: true,
    checkPath: "/models",
    authHeaders: bearer,
    rejects: unauthorized,
  },
  mistral: {
    label: "Mistral",
    baseUrl: "https://api.mistral.ai/v1",
    requiresKey: true,
    checkPath: "/models",
    authHeaders: bearer,
    rejects: unauthorized,
  },
  together: {
    label: "Together AI",
    baseUrl: "https://api.together.xyz/v1",
    requiresKey: true,
    checkPath: "/models",
    authHeaders: bearer,
    rejects: unauthorized,
  },
  fireworks: {
    label: "Fireworks",
    baseUrl: "https://api.fireworks.ai/inference/v1",
    requiresKey: true,
    checkPath: "/models",
    authHeaders: bearer,
    rejects: unauthorizedOrForbidden,
  },
  ollama: {
    label: "Ollama",
    baseUrl: null,
    requiresKey: false,
    checkPath: "/api/version",
    authHeaders: optionalBearer,
    rejects: unauthorizedOrForbidden,
  },
  custom: {
    label: "Custom (OpenAI-compatible)",
    baseUrl: null,
    requiresKey: false,
    checkPath: "/models",
    authHeaders: optionalBearer,
    rejects: unauthorizedOrForbidden,
  },
};

export const PROVIDER_REGISTRY: readonly ProviderDefinition[] = PROVIDERS.map((id) => ({
  id,
  ...definitions[id],
}));

export function providerDefinition(id: Provider): ProviderDefinition {
  return { id, ...definitions[id] };
}

export function isProvider(value: string): value is Provider {
  return (PROVIDERS as readonly string[]).includes(value);
}

/** Where requests for this provider go: the override (staging, tests), the registry URL, or the user's. */
export function effectiveBaseUrl(
  definition: ProviderDefinition,
  overrides: Partial<Record<Provider, string>>,
  userBaseUrl: string | null,
): string | null {
  if (definition.baseUrl === null) return userBaseUrl;
  return overrides[definition.id] ?? definition.baseUrl;
}

/** `base` + `path` with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

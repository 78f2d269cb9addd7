/** The closed set of model providers a user can bring a key for (docs/DESIGN.md#api-keys, #provider-keys). */
export const PROVIDERS = [
  "openai",
  "anthropic",
  "gemini",
  "deepseek",
  "groq",
  "mistral",
  "together",
  "fireworks",
  "ollama",
  "custom",
] as const;
export type Provider = (typeof PROVIDERS)[number];

/** `rejected`: the provider refused the stored key (on use or at a re-check) until it is saved again. */
export const PROVIDER_KEY_STATUSES = ["valid", "needs_reentry", "rejected"] as const;
export type ProviderKeyStatus = (typeof PROVIDER_KEY_STATUSES)[number];

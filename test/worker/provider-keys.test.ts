import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { auditEvents, providerKeys } from "../../src/db/schema";
import { PROVIDERS } from "../../src/domain/providers";
import { localhostUrl, providerRequests, resetProviderRequests } from "../support/fake-providers";
import { asUser, expectProblem, newUserId, sessionToken, workerFetch } from "../support/http";
import { captureLogs } from "../support/logs";
import { db } from "../support/stores";
import { inOneMinuteWindow } from "../support/window";

/** Built-in providers, the header their key must arrive in, and how the fake rejects a bad key. */
const BUILT_IN = [
  { provider: "openai", header: "authorization", value: (k: string) => `Bearer ${k}` },
  { provider: "anthropic", header: "x-api-key", value: (k: string) => k },
  { provider: "gemini", header: "x-goog-api-key", value: (k: string) => k },
  { provider: "deepseek", header: "authorization", value: (k: string) => `Bearer ${k}` },
  { provider: "groq", header: "authorization", value: (k: string) => `Bearer ${k}` },
  { provider: "mistral", header: "authorization", value: (k: string) => `Bearer ${k}` },
  { provider: "together", header: "authorization", value: (k: string) => `Bearer ${k}` },
  { provider: "fireworks", header: "authorization", value: (k: string) => `Bearer ${k}` },
] as const;

const CANARY = "sk-good-canary-7f3a9c1e5b2d8f4a6c0e";
const stored = async (ownerId: string, provider: string) =>
  (
    await db()
      .select()
      .from(providerKeys)
      .where(and(eq(providerKeys.ownerId, ownerId), eq(providerKeys.provider, provider)))
  )[0];
const save = (userId: string, provider: string, body: unknown) =>
  asUser(userId, "PUT", `/api/provider-keys/${provider}`, body);

/** Requests as a signed-in user against a development configuration (where localhost URLs are allowed). */
async function asUserInDevelopment(userId: string, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { Authorization: `Bearer ${await sessionToken(userId)}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const request = new Request(`https://keys.vulk.test${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return workerFetch(request, { ENVIRONMENT: "development" });
}

let logged: string[] = [];
beforeEach(async () => {
  await resetProviderRequests();
  logged = captureLogs();
});
afterEach(() => {
  vi.restoreAllMocks();
  // The canary: no provider key reaches a log line.
  for (const line of logged) expect(line).not.toMatch(/sk-(good|bad)-/);
});

async function expectNoSecret(response: Response, secret: string) {
  const text = await response.clone().text();
  expect(text).not.toContain(secret);
  for (const [, value] of response.headers) expect(value).not.toContain(secret);
}

describe.each(BUILT_IN)("$provider", ({ provider, header, value }) => {
  it("a key the provider accepts is stored sealed; the card shows only its last 4", async () => {
    const userId = newUserId();
    const key = `sk-good-${provider}-0123456789abcd`;
    const response = await save(userId, provider, { apiKey: key });
    expect(response.status).toBe(200);
    await expectNoSecret(response, key);
    expect(await response.json()).toMatchObject({
      provider,
      configured: true,
      hint: "abcd",
      status: "valid",
      baseUrl: null,
    });
    const row = await stored(userId, provider);
    expect(row?.ciphertext).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(key);
    const [received] = await providerRequests();
    expect(received?.headers[header]).toBe(value(key));
    expect(received?.path).not.toContain(key); // never in the URL (no ?key=)
  });

  it("a key the provider rejects → 422, nothing stored, its error body not echoed", async () => {
    const userId = newUserId();
    const key = `sk-bad-${provider}-0123456789abcd`;
    const response = await save(userId, provider, { apiKey: key });
    await expectProblem(response.clone(), 422, "provider_rejected_key");
    await expectNoSecret(response, key);
    expect(await stored(userId, provider)).toBeUndefined();
  });

  it("a provider that cannot be reached → 502, nothing stored", async () => {
    const userId = newUserId();
    await expectProblem(
      await save(userId, provider, { apiKey: "sk-down-0123456789abcd" }),
      502,
      "provider_unreachable",
    );
    expect(await stored(userId, provider)).toBeUndefined();
  });

  it("takes no URL", async () => {
    const response = await save(newUserId(), provider, {
      apiKey: "sk-good-x-0123456789",
      baseUrl: "https://example.com",
    });
    await expectProblem(response, 400, "invalid_request");
    expect(await providerRequests()).toEqual([]);
  });
});

describe("Ollama and Custom (user URLs)", () => {
  it("Ollama: an endpoint URL without a token, checked with GET /api/version", async () => {
    const userId = newUserId();
    const baseUrl = localhostUrl("/ollama");
    const response = await asUserInDevelopment(userId, "PUT", "/api/provider-keys/ollama", { baseUrl });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ configured: true, hint: null, baseUrl });
    expect((await providerRequests()).map((r) => r.path)).toEqual(["/ollama/api/version"]);
  });

  it("Custom: an OpenAI-compatible base URL with a key; a wrong key → 422", async () => {
    const userId = newUserId();
    const baseUrl = localhostUrl("/custom/v1");
    const ok = await asUserInDevelopment(userId, "PUT", "/api/provider-keys/custom", {
      baseUrl,
      apiKey: "sk-good-custom-123456789",
    });
    expect(ok.status).toBe(200);
    const bad = await asUserInDevelopment(userId, "PUT", "/api/provider-keys/custom", {
      baseUrl,
      apiKey: "sk-bad-custom-123456789",
    });
    await expectProblem(bad, 422, "provider_rejected_key");
    expect((await stored(userId, "custom"))?.hint).toBe("6789"); // the accepted key is still the one stored
  });

  it("Custom: an endpoint that is not an OpenAI-compatible API → 502; a redirect is not followed", async () => {
    const userId = newUserId();
    const notOpenAi = await asUserInDevelopment(userId, "PUT", "/api/provider-keys/custom", {
      baseUrl: localhostUrl("/nowhere"),
    });
    await expectProblem(notOpenAi, 502, "provider_unreachable");
    const redirect = await asUserInDevelopment(userId, "PUT", "/api/provider-keys/custom", {
      baseUrl: localhostUrl("/redirect/v1"),
    });
    await expectProblem(redirect, 502, "provider_unreachable");
    expect((await providerRequests()).map((r) => r.path)).toEqual(["/nowhere/models", "/redirect/v1/models"]);
    expect(await stored(userId, "custom")).toBeUndefined();
  });

  it("a URL is required", async () => {
    await expectProblem(
      await save(newUserId(), "custom", { apiKey: "sk-good-123456789012" }),
      400,
      "invalid_request",
    );
  });
});

describe("SSRF guard: refused before any request leaves", () => {
  const fakePort = () => new URL(localhostUrl("/")).port;
  const spellings = () => [
    `http://127.0.0.1:${fakePort()}/custom/v1`,
    `http://[::1]:${fakePort()}/custom/v1`,
    `http://0x7f000001:${fakePort()}/custom/v1`,
    `http://2130706433:${fakePort()}/custom/v1`,
    `http://[::ffff:127.0.0.1]:${fakePort()}/custom/v1`,
    `http://localhost:${fakePort()}/custom/v1`, // production: localhost is refused too
    `http://user:pass@localhost:${fakePort()}/custom/v1`,
    "ftp://localhost/custom/v1",
    "file:///etc/passwd",
  ];
  it("every loopback spelling, userinfo and non-http scheme → 400 invalid_url, zero requests to the fake", async () => {
    const userId = newUserId();
    for (const baseUrl of spellings()) {
      const custom = await save(userId, "custom", { baseUrl, apiKey: "sk-good-ssrf-123456789" });
      expect(custom.status, baseUrl).toBe(400);
      await expectProblem(custom, 400, "invalid_url");
      const ollama = await save(userId, "ollama", { baseUrl });
      expect(ollama.status, baseUrl).toBe(400);
      await expectProblem(ollama, 400, "invalid_url");
    }
    expect(await providerRequests()).toEqual([]);
    expect(await stored(userId, "custom")).toBeUndefined();
  });
});

describe("listing and removing", () => {
  it("GET lists all ten providers, never a key; DELETE removes; every change is audited", async () => {
    const userId = newUserId();
    expect((await save(userId, "openai", { apiKey: CANARY })).status).toBe(200);
    expect((await save(userId, "openai", { apiKey: `${CANARY}x` })).status).toBe(200);
    const list = await asUser(userId, "GET", "/api/provider-keys");
    await expectNoSecret(list, CANARY);
    const { data } = (await list.json()) as {
      data: { provider: string; configured: boolean; hint: string | null }[];
    };
    expect(data.map((c) => c.provider)).toEqual([...PROVIDERS]);
    expect(data.find((c) => c.provider === "openai")).toMatchObject({ configured: true, hint: "c0ex" });
    expect(data.filter((c) => c.configured)).toHaveLength(1);

    expect((await asUser(userId, "DELETE", "/api/provider-keys/openai")).status).toBe(204);
    expect(await stored(userId, "openai")).toBeUndefined();
    const actions = (await db().select().from(auditEvents).where(eq(auditEvents.ownerId, userId)))
      .map((e) => e.action)
      .sort();
    expect(actions).toEqual(["provider_key.removed", "provider_key.replaced", "provider_key.set"]);
  });

  it("an unknown provider is a 404", async () => {
    await expectProblem(await save(newUserId(), "skynet", { apiKey: "x" }), 404, "not_found");
  });

  it("a row that does not open shows needs_reentry, no crash", async () => {
    const userId = newUserId();
    expect((await save(userId, "groq", { apiKey: "sk-good-groq-123456789" })).status).toBe(200);
    // Move another owner's ciphertext onto this row: its AAD (owner) no longer matches.
    const other = newUserId();
    expect((await save(other, "groq", { apiKey: "sk-good-groq-other-9999" })).status).toBe(200);
    const foreign = await stored(other, "groq");
    await db()
      .update(providerKeys)
      .set({ ciphertext: foreign?.ciphertext as string })
      .where(and(eq(providerKeys.ownerId, userId), eq(providerKeys.provider, "groq")));
    const { data } = (await (await asUser(userId, "GET", "/api/provider-keys")).json()) as {
      data: { provider: string; status: string }[];
    };
    expect(data.find((c) => c.provider === "groq")?.status).toBe("needs_reentry");
  });
});

describe("the save limit", () => {
  it("allows 10 saves a minute per user (a save asks the provider: no key-testing oracle)", async () => {
    inOneMinuteWindow();
    const userId = newUserId();
    for (let i = 0; i < 10; i++)
      expect((await save(userId, "mistral", { apiKey: `sk-bad-${i}-123456789` })).status).toBe(422);
    const limited = await save(userId, "mistral", { apiKey: "sk-good-123456789012" });
    await expectProblem(limited, 429, "rate_limited");
    expect((await providerRequests()).length).toBe(10);
  });
});

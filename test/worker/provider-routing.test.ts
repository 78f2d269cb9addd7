/** Generation routing over RPC (docs/DESIGN.md#provider-keys) and master-key rotation (docs/DESIGN.md#envelope-format). */
import { env, exports } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { type Env, loadConfig } from "../../src/config/env";
import { envelopeVersion } from "../../src/crypto/envelope";
import { providerKeys } from "../../src/db/schema";
import { createLogger } from "../../src/observability/logger";
import { rewrapBatch } from "../../src/providers/rewrap";
import { credentialFor } from "../../src/providers/service";
import { providerRequests, releaseStream, resetProviderRequests } from "../support/fake-providers";
import { asUser, newUserId } from "../support/http";
import { db } from "../support/stores";

const USER_KEY = "sk-good-route-0123456789wxyz";

async function withOpenAiKey(): Promise<string> {
  const userId = newUserId();
  expect((await asUser(userId, "PUT", "/api/provider-keys/openai", { apiKey: USER_KEY })).status).toBe(200);
  await resetProviderRequests();
  return userId;
}

async function spoilCiphertext(userId: string, provider: string) {
  const other = newUserId();
  expect(
    (await asUser(other, "PUT", `/api/provider-keys/${provider}`, { apiKey: "sk-good-someone-else-1234" }))
      .status,
  ).toBe(200);
  const [foreign] = await db()
    .select()
    .from(providerKeys)
    .where(and(eq(providerKeys.ownerId, other), eq(providerKeys.provider, provider)));
  await db()
    .update(providerKeys)
    .set({ ciphertext: foreign?.ciphertext as string })
    .where(and(eq(providerKeys.ownerId, userId), eq(providerKeys.provider, provider)));
  await resetProviderRequests();
}

beforeEach(() => resetProviderRequests());

describe("providerRoute", () => {
  it("byom with the key's hint when the user has a key; credits otherwise; blocked when it must be re-entered", async () => {
    const userId = await withOpenAiKey();
    expect(await exports.default.providerRoute(userId, "openai")).toEqual({
      ok: true,
      billing: "byom",
      provider: "openai",
      keyHint: "wxyz",
    });
    expect(await exports.default.providerRoute(userId, "anthropic")).toEqual({
      ok: true,
      billing: "credits",
      provider: "anthropic",
    });
    await spoilCiphertext(userId, "openai");
    expect(await exports.default.providerRoute(userId, "openai")).toEqual({
      ok: true,
      billing: "blocked",
      provider: "openai",
      code: "needs_reentry",
    });
  });
});

describe("providerFetch", () => {
  it("attaches the user's key here, drops the caller's credentials, and streams the answer back", async () => {
    const userId = await withOpenAiKey();
    const response = await exports.default.providerFetch(userId, "openai", "/chat/completions", {
      method: "POST",
      headers: {
        Authorization: "Bearer caller-platform-key",
        Cookie: "session=1",
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ model: "model-1", stream: true, messages: [] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Set-Cookie")).toBeNull();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    // The fake sends its second chunk only after this first one has been read here: the body streams.
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe("data: first\n\n");
    await releaseStream();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += decoder.decode(chunk.value);
    expect(rest).toBe("data: second\n\n");

    const [received] = await providerRequests();
    expect(received?.path).toBe("/openai/v1/chat/completions");
    expect(received?.headers.authorization).toBe(`Bearer ${USER_KEY}`);
    expect(received?.headers.cookie).toBeUndefined();
  });

  it.each(["//evil.example/x", "https://evil.example/x", "../x", "a/../../b", "%2e%2e/x", "a\\b", ""])(
    "refuses the path %j before any request",
    async (path) => {
      const userId = await withOpenAiKey();
      const response = await exports.default.providerFetch(userId, "openai", path, { method: "GET" });
      expect(response.status).toBe(400);
      expect(response.headers.get("Content-Type")).toBe("application/problem+json");
      expect(await providerRequests()).toEqual([]);
    },
  );

  it("no usable key → a problem Response, never a throw and never another key", async () => {
    const userId = await withOpenAiKey();
    const none = await exports.default.providerFetch(userId, "mistral", "/models", { method: "GET" });
    expect(none.status).toBe(404);
    expect(((await none.json()) as { code: string }).code).toBe("not_found");
    await spoilCiphertext(userId, "openai");
    const blocked = await exports.default.providerFetch(userId, "openai", "/models", { method: "GET" });
    expect(blocked.status).toBe(409);
    expect(((await blocked.json()) as { code: string }).code).toBe("needs_reentry");
    expect((await providerRequests()).filter((r) => r.path.startsWith("/openai"))).toEqual([]);
  });
});

describe("master-key rotation", () => {
  it("a v1 row opens after v2 is added, and rewrap runs move every row to v2", async () => {
    const userId = await withOpenAiKey();
    const v2 = `2:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
    const rotated = loadConfig({
      ...env,
      PROVIDER_KEYS_MASTER_KEYS: `${v2},${env.PROVIDER_KEYS_MASTER_KEYS}`,
    } as Env);
    expect((await credentialFor(db(), rotated, userId, "openai")).kind).toBe("usable");

    const logger = createLogger({ test: "rewrap" });
    const runs = [];
    for (let run = 0; run < 20; run++) {
      const progress = await rewrapBatch(db(), rotated, logger);
      runs.push(progress);
      if (progress.remaining === 0) break;
    }
    expect(runs.at(-1)?.remaining).toBe(0);
    expect(runs.reduce((n, r) => n + r.resealed, 0)).toBeGreaterThan(0);

    const rows = await db().select().from(providerKeys).where(eq(providerKeys.status, "valid"));
    expect(rows.map((r) => envelopeVersion(r.ciphertext))).toEqual(rows.map(() => 2));
    const onlyV2 = loadConfig({ ...env, PROVIDER_KEYS_MASTER_KEYS: v2 } as Env);
    const credential = await credentialFor(db(), onlyV2, userId, "openai");
    expect(credential.kind === "usable" && credential.key).toBe(USER_KEY);
  });
});

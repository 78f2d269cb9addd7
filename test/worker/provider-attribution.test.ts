/**
 * Every `providerFetch` answer says which credential served it (docs/DESIGN.md#rpc): the
 * provider's own answers — 200, 4xx, streamed — carry `X-Vulk-Billing: byom` and the key's hint;
 * a problem carries the billing decision `providerRoute` would give.
 */
import { exports } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { providerKeys } from "../../src/db/schema";
import { releaseStream, resetProviderRequests } from "../support/fake-providers";
import { asUser, newUserId } from "../support/http";
import { db } from "../support/stores";

const USER_KEY = "sk-good-attribution-0123456789wxyz";
const completion = (body: Record<string, unknown>) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ messages: [], ...body }),
});

async function withOpenAiKey(): Promise<string> {
  const userId = newUserId();
  expect((await asUser(userId, "PUT", "/api/provider-keys/openai", { apiKey: USER_KEY })).status).toBe(200);
  return userId;
}

const attribution = (response: Response) => ({
  billing: response.headers.get("X-Vulk-Billing"),
  hint: response.headers.get("X-Vulk-Key-Hint"),
});

beforeEach(() => resetProviderRequests());

/** A chat completion through RPC providerFetch, routed to the user's OpenAI key. */
const openAiChat = (userId: string, body: Parameters<typeof completion>[0]) =>
  exports.default.providerFetch(userId, "openai", "/chat/completions", completion(body));

describe("the provider's answers carry the credential that served them", () => {
  it("a 200 JSON answer: byom and the key's last four", async () => {
    const userId = await withOpenAiKey();
    const response = await openAiChat(userId, { model: "model-1" });
    expect(response.status).toBe(200);
    expect(attribution(response)).toEqual({ billing: "byom", hint: "wxyz" });
    expect(((await response.json()) as { object: string }).object).toBe("chat.completion");
  });

  it("a 4xx answer of the provider (model not found): its status and body, with byom and the hint", async () => {
    const userId = await withOpenAiKey();
    const response = await openAiChat(userId, { model: "missing" });
    expect(response.status).toBe(404);
    expect(attribution(response)).toEqual({ billing: "byom", hint: "wxyz" });
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
  });

  it("a streamed answer: the headers arrive with the first chunk", async () => {
    const userId = await withOpenAiKey();
    const response = await openAiChat(userId, { model: "model-1", stream: true });
    expect(response.status).toBe(200);
    expect(attribution(response)).toEqual({ billing: "byom", hint: "wxyz" });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: first\n\n");
    await releaseStream();
    while (!(await reader.read()).done) {
      // drain
    }
  });

  it("a key too short for a hint: byom without a hint header", async () => {
    const userId = newUserId();
    expect((await asUser(userId, "PUT", "/api/provider-keys/openai", { apiKey: "sk-good-1" })).status).toBe(
      200,
    );
    const response = await openAiChat(userId, { model: "model-1" });
    expect(response.status).toBe(200);
    expect(attribution(response)).toEqual({ billing: "byom", hint: null });
  });
});

describe("a problem carries the billing decision too", () => {
  it("no key stored → credits (as providerRoute says); a key that must be re-entered → blocked", async () => {
    const userId = await withOpenAiKey();
    const none = await exports.default.providerFetch(userId, "mistral", "/models", { method: "GET" });
    expect(none.status).toBe(404);
    expect(attribution(none)).toEqual({ billing: "credits", hint: null });
    expect(await exports.default.providerRoute(userId, "mistral")).toMatchObject({ billing: "credits" });

    await db()
      .update(providerKeys)
      .set({ ciphertext: "v1.AAAA.AAAA" })
      .where(and(eq(providerKeys.ownerId, userId), eq(providerKeys.provider, "openai")));
    const blocked = await exports.default.providerFetch(userId, "openai", "/models", { method: "GET" });
    expect(blocked.status).toBe(409);
    expect(attribution(blocked)).toEqual({ billing: "blocked", hint: null });
    expect(await exports.default.providerRoute(userId, "openai")).toMatchObject({ billing: "blocked" });
  });

  it("arguments refused before any credential is looked up carry no billing decision", async () => {
    const response = await exports.default.providerFetch(newUserId(), "skynet", "/models");
    expect(response.status).toBe(400);
    expect(attribution(response)).toEqual({ billing: null, hint: null });
  });
});

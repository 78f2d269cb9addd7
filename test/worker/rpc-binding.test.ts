/**
 * The RPC contract seen from another Worker: every method's failure crosses the service binding
 * as a result with `ok: false` and a `code` (or, for providerFetch, a problem+json Response) —
 * never as a thrown error, whose `code` would not survive the binding.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { asUser, newUserId } from "../support/http";
import { issueKey, setFault } from "../support/v1";

interface Crossed {
  result?: { ok: boolean; code?: string; detail?: string };
  response?: {
    status: number;
    contentType: string | null;
    billing: string | null;
    keyHint: string | null;
    body: { code: string; detail: string };
  };
  threw?: unknown;
}

async function throughBinding(method: string, ...args: unknown[]): Promise<Crossed> {
  const caller = (env as unknown as { RPC_CALLER: Fetcher }).RPC_CALLER;
  const response = await caller.fetch("https://rpc-caller/", {
    method: "POST",
    body: JSON.stringify({ method, args }),
  });
  return (await response.json()) as Crossed;
}

async function expectFailure(crossed: Crossed, code: string): Promise<void> {
  expect(crossed.threw).toBeUndefined();
  expect(crossed.result).toMatchObject({ ok: false, code });
  expect(typeof crossed.result?.detail).toBe("string");
}

afterEach(async () => {
  await setFault("neon", "none");
  await setFault("upstash", "none");
});

describe("RPC failures cross the binding as results with a code", () => {
  it("a successful call crosses as ok: true", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const crossed = await throughBinding("verify", key.key, "projects:read");
    expect(crossed.result).toMatchObject({ ok: true, keyId: key.id, ownerId: key.ownerId });
  });

  it("verify: bad arguments and refused keys", async () => {
    await expectFailure(await throughBinding("verify", 42), "missing_key");
    await expectFailure(await throughBinding("verify", "vk_sk_short"), "malformed_key");
    const key = await issueKey(newUserId(), ["projects:read"]);
    await expectFailure(await throughBinding("verify", key.key, "admin:all"), "invalid_request");
    await expectFailure(await throughBinding("verify", key.key, "export:read"), "missing_permission");
  });

  it("revokeAllKeys: a missing owner id, and markers that cannot be written", async () => {
    await expectFailure(await throughBinding("revokeAllKeys", ""), "invalid_request");
    await expectFailure(await throughBinding("revokeAllKeys", { id: "x" }), "invalid_request");
    const key = await issueKey(newUserId(), ["projects:read"]);
    await setFault("upstash", "error");
    await expectFailure(await throughBinding("revokeAllKeys", key.ownerId, "test"), "service_unavailable");
  });

  it("text Postgres cannot store is invalid_request, not internal_error", async () => {
    await expectFailure(await throughBinding("revokeAllKeys", "user\u0000x"), "invalid_request");
    await expectFailure(await throughBinding("revokeAllKeys", newUserId(), "why\ud800"), "invalid_request");
    await expectFailure(await throughBinding("providerRoute", "user\u0000x", "openai"), "invalid_request");
  });

  it("providerRoute: unknown provider, missing owner, database down", async () => {
    await expectFailure(await throughBinding("providerRoute", newUserId(), "skynet"), "invalid_request");
    await expectFailure(await throughBinding("providerRoute", "", "openai"), "invalid_request");
    await setFault("neon", "error");
    await expectFailure(await throughBinding("providerRoute", newUserId(), "openai"), "service_unavailable");
  });

  it("rewrapProviderKeys and recheckProviderKeys: database down", async () => {
    await setFault("neon", "error");
    await expectFailure(await throughBinding("rewrapProviderKeys"), "service_unavailable");
    await expectFailure(await throughBinding("recheckProviderKeys"), "service_unavailable");
  });

  it("recheckProviderKeys crosses as its progress", async () => {
    expect((await throughBinding("recheckProviderKeys")).result).toMatchObject({
      ok: true,
      checked: expect.any(Number),
      rejected: expect.any(Number),
    });
  });

  it("setAccountLimit: bad arguments, and markers that cannot be written", async () => {
    await expectFailure(await throughBinding("setAccountLimit", "", 100), "invalid_request");
    await expectFailure(await throughBinding("setAccountLimit", newUserId(), 5), "invalid_request");
    await expectFailure(await throughBinding("setAccountLimit", newUserId(), "100"), "invalid_request");
    const key = await issueKey(newUserId(), ["projects:read"]);
    await setFault("upstash", "error");
    await expectFailure(await throughBinding("setAccountLimit", key.ownerId, 100), "service_unavailable");
  });

  it("rollUpUsage: Redis down", async () => {
    await setFault("upstash", "error");
    await expectFailure(await throughBinding("rollUpUsage"), "service_unavailable");
  });

  it("providerFetch: every refusal is a problem+json Response", async () => {
    const cases: [unknown[], number, string][] = [
      [[newUserId(), "skynet", "/models"], 400, "invalid_request"],
      [["", "openai", "/models"], 400, "invalid_request"],
      [[newUserId(), "openai", "../admin"], 400, "invalid_request"],
      [[newUserId(), "openai", "/models", { method: "get" }], 400, "invalid_request"],
      [[newUserId(), "openai", "/models", { headers: [["bad header", "x"]] }], 400, "invalid_request"],
    ];
    for (const [args, status, code] of cases) {
      const crossed = await throughBinding("providerFetch", ...args);
      expect(crossed.threw).toBeUndefined();
      expect(crossed.response).toMatchObject({
        status,
        contentType: "application/problem+json",
        body: { code },
        billing: null,
      });
    }
  });

  it("providerFetch: the billing decision crosses the binding with the answer", async () => {
    const userId = newUserId();
    const none = await throughBinding("providerFetch", userId, "openai", "/models", { method: "GET" });
    expect(none.response).toMatchObject({ status: 404, body: { code: "not_found" }, billing: "credits" });
    const saved = await asUser(userId, "PUT", "/api/provider-keys/openai", {
      apiKey: "sk-good-binding-12345wxyz",
    });
    expect(saved.status).toBe(200);
    const served = await throughBinding("providerFetch", userId, "openai", "/models", { method: "GET" });
    expect(served.response).toMatchObject({ status: 200, billing: "byom", keyHint: "wxyz" });
  });
});

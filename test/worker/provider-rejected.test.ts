/**
 * A stored key the provider stops accepting (docs/DESIGN.md#provider-keys): the first bad-key
 * answer to a `providerFetch` marks it `rejected` — audited, one `provider_key.rejected` event —
 * and `providerRoute` answers blocked until the key is saved again. Neither the provider's body
 * nor the key reaches the caller or a log line.
 */
import { exports } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemActor } from "../../src/audit/events";
import { auditEvents, providerKeys } from "../../src/db/schema";
import { createLogger } from "../../src/observability/logger";
import { recordRejection } from "../../src/providers/rejection";
import { providerRequests, resetProviderRequests, revokeAtProvider } from "../support/fake-providers";
import { asUser, newUserId } from "../support/http";
import { captureLogs } from "../support/logs";
import { recordingQueue } from "../support/queue";
import { providerFetchWith } from "../support/rpc";
import { db } from "../support/stores";

const chat = {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ model: "model-1", messages: [] }),
};

/** A chat completion with this model through providerFetch, owner events going to `queue`. */
const chatWithModel = (queue: Parameters<typeof providerFetchWith>[0], userId: string, model: string) =>
  providerFetchWith(queue, userId, "openai", "/chat/completions", {
    ...chat,
    body: JSON.stringify({ model, messages: [] }),
  });

async function savedKey(userId: string, apiKey: string): Promise<void> {
  expect((await asUser(userId, "PUT", "/api/provider-keys/openai", { apiKey })).status).toBe(200);
}

const storedRow = async (userId: string) => {
  const [row] = await db()
    .select()
    .from(providerKeys)
    .where(and(eq(providerKeys.ownerId, userId), eq(providerKeys.provider, "openai")));
  return row;
};

const rejectionAudit = (userId: string) =>
  db()
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.ownerId, userId), eq(auditEvents.action, "provider_key.rejected")));

const openAiCard = async (userId: string) => {
  const response = await asUser(userId, "GET", "/api/provider-keys");
  const { data } = (await response.json()) as { data: { provider: string }[] };
  return data.find((card) => card.provider === "openai") as Record<string, unknown>;
};

beforeEach(() => resetProviderRequests());
afterEach(() => {
  vi.restoreAllMocks();
});

describe("a provider 401 on use", () => {
  it("marks the key rejected once, sends one event, blocks providerRoute; a new save restores it", async () => {
    const userId = newUserId();
    const key = `sk-good-rejected-${crypto.randomUUID()}-abcd`;
    await savedKey(userId, key);
    await revokeAtProvider(key);
    const { queue, sent } = recordingQueue();

    const answer = await providerFetchWith(queue, userId, "openai", "/chat/completions", chat);
    expect(answer.status).toBe(401);
    expect(answer.headers.get("X-Vulk-Billing")).toBe("byom");
    expect(answer.headers.get("X-Vulk-Key-Hint")).toBe("abcd");
    expect(answer.headers.get("Content-Type")).toBe("application/problem+json");
    const body = await answer.text();
    expect(JSON.parse(body)).toMatchObject({ status: 401, code: "provider_rejected_key" });
    // The fake's 401 body echoes the key (as OpenAI's does): none of it is passed on.
    expect(body).not.toContain(key);
    expect(body).not.toContain("Incorrect API key");

    const row = await storedRow(userId);
    expect(row?.status).toBe("rejected");
    expect(row?.rejectedAt).toBeInstanceOf(Date);
    expect(sent).toEqual([
      {
        version: 1,
        type: "provider_key.rejected",
        ownerId: userId,
        occurredAt: row?.rejectedAt?.toISOString(),
        details: { provider: "openai", hint: "abcd", via: "use", status: 401 },
      },
    ]);
    const audit = await rejectionAudit(userId);
    expect(audit.map((a) => [a.actor, a.targetId, a.metadata])).toEqual([
      ["system:rpc", "openai", { hint: "abcd", via: "use", status: 401 }],
    ]);
    expect(await openAiCard(userId)).toMatchObject({
      status: "rejected",
      rejectedAt: row?.rejectedAt?.toISOString(),
      lastCheckedAt: row?.rejectedAt?.toISOString(),
    });

    expect(await exports.default.providerRoute(userId, "openai")).toEqual({
      ok: true,
      billing: "blocked",
      provider: "openai",
      code: "provider_rejected_key",
    });
    // While rejected, nothing is sent to the provider any more.
    await resetProviderRequests();
    const blocked = await providerFetchWith(queue, userId, "openai", "/chat/completions", chat);
    expect(blocked.status).toBe(422);
    expect(blocked.headers.get("X-Vulk-Billing")).toBe("blocked");
    expect(((await blocked.json()) as { code: string }).code).toBe("provider_rejected_key");
    expect(await providerRequests()).toEqual([]);
    expect(sent).toHaveLength(1);

    await savedKey(userId, `sk-good-replacement-${crypto.randomUUID()}-wxyz`);
    expect(await exports.default.providerRoute(userId, "openai")).toEqual({
      ok: true,
      billing: "byom",
      provider: "openai",
      keyHint: "wxyz",
    });
    expect(await openAiCard(userId)).toMatchObject({ status: "valid", rejectedAt: null });
    const served = await providerFetchWith(queue, userId, "openai", "/chat/completions", chat);
    expect(served.status).toBe(200);
  });

  it("requests in flight with the same key when it went bad record one rejection between them", async () => {
    const userId = newUserId();
    await savedKey(userId, `sk-good-inflight-${crypto.randomUUID()}`);
    const row = (await storedRow(userId)) as NonNullable<Awaited<ReturnType<typeof storedRow>>>;
    const { queue, sent } = recordingQueue();
    const deps = { db: db(), queue, logger: createLogger({ test: "in-flight" }) };
    const recorded = await Promise.all(
      [0, 1, 2].map(() => recordRejection(deps, row, { via: "use", status: 401 }, systemActor("rpc"))),
    );
    expect(recorded.filter(Boolean)).toHaveLength(1);
    expect(sent).toHaveLength(1);
    expect(await rejectionAudit(userId)).toHaveLength(1);
  });

  it("a 401 the key check does not confirm (a restricted key lacking a scope) keeps the key", async () => {
    const userId = newUserId();
    const key = `sk-good-scoped-${crypto.randomUUID()}`;
    await savedKey(userId, key);
    await resetProviderRequests();
    const { queue, sent } = recordingQueue();
    const answer = await chatWithModel(queue, userId, "scope-limited");
    expect(answer.status).toBe(401);
    expect(answer.headers.get("X-Vulk-Billing")).toBe("byom");
    const body = (await answer.json()) as { status: number; detail: string };
    expect(body.status).toBe(401);
    expect(body.detail).toContain("still accepted");
    // The confirmation was the save's check: one models list with the key.
    expect((await providerRequests()).map((r) => r.path)).toEqual([
      "/openai/v1/chat/completions",
      "/openai/v1/models",
    ]);
    expect((await storedRow(userId))?.status).toBe("valid");
    expect(sent).toEqual([]);
    expect(await rejectionAudit(userId)).toEqual([]);
    expect(await exports.default.providerRoute(userId, "openai")).toMatchObject({ billing: "byom" });
  });

  it("a 403 is not a bad-key answer for OpenAI (its 403 is a region refusal): nothing is marked", async () => {
    const userId = newUserId();
    await savedKey(userId, `sk-good-region-${crypto.randomUUID()}`);
    const { queue, sent } = recordingQueue();
    const answer = await chatWithModel(queue, userId, "region-locked");
    expect(answer.status).toBe(403);
    expect(answer.headers.get("X-Vulk-Billing")).toBe("byom");
    expect((await storedRow(userId))?.status).toBe("valid");
    expect(sent).toEqual([]);
  });

  it("neither the key nor the provider's body reaches a log line", async () => {
    const userId = newUserId();
    const key = `sk-good-logged-${crypto.randomUUID()}`;
    await savedKey(userId, key);
    await revokeAtProvider(key);
    const lines = captureLogs();
    const answer = await providerFetchWith(undefined, userId, "openai", "/chat/completions", chat);
    expect(answer.status).toBe(401);
    await answer.text();
    vi.restoreAllMocks();
    expect(lines.some((line) => line.includes('"provider_key_rejected"'))).toBe(true);
    expect(lines.join("\n")).not.toContain(key);
    expect(lines.join("\n")).not.toContain("Incorrect API key");
  });
});

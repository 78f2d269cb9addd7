/**
 * The provider-key health re-check (docs/DESIGN.md#provider-keys): keys not asked about for the
 * interval are checked with the save's no-token check, oldest first, a bounded batch per run. A
 * rejection is recorded as on use; an unreachable provider changes nothing; a second run finds
 * nothing new.
 */
import { env } from "cloudflare:workers";
import { and, eq, inArray } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, type Env, loadConfig } from "../../src/config/env";
import { auditEvents, providerKeys } from "../../src/db/schema";
import { createLogger } from "../../src/observability/logger";
import { recheckProviderKeys } from "../../src/providers/recheck";
import { providerRequests, resetProviderRequests, revokeAtProvider } from "../support/fake-providers";
import { asUser, newUserId } from "../support/http";
import { captureLogs } from "../support/logs";
import { recordingQueue } from "../support/queue";
import { db } from "../support/stores";

const DAY_MS = 86_400_000;
const logger = createLogger({ test: "recheck" });
const config = (overrides: Partial<Env> = {}) => loadConfig({ ...env, ...overrides } as Env);

/** Saves an OpenAI key for a new user and makes it look last checked `days` ago. */
async function keyCheckedDaysAgo(apiKey: string, days: number): Promise<string> {
  const userId = newUserId();
  expect((await asUser(userId, "PUT", "/api/provider-keys/openai", { apiKey })).status).toBe(200);
  const then = new Date(Date.now() - days * DAY_MS);
  await db()
    .update(providerKeys)
    .set({ checkAttemptedAt: then, lastCheckedAt: then })
    .where(eq(providerKeys.ownerId, userId));
  return userId;
}

const rowsOf = (owners: string[]) =>
  db().select().from(providerKeys).where(inArray(providerKeys.ownerId, owners));
const rowOf = async (owner: string) => (await rowsOf([owner]))[0];

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the health re-check", () => {
  it("over 3 due keys, one revoked at the provider, marks exactly that one; a second run marks nothing new", async () => {
    const keys = [0, 1, 2].map((i) => `sk-good-recheck-${i}-${crypto.randomUUID()}`);
    const owners: string[] = [];
    for (const key of keys) owners.push(await keyCheckedDaysAgo(key, 8));
    const [kept, revoked, alsoKept] = owners as [string, string, string];
    await revokeAtProvider(keys[1] as string);
    const before = Date.now() - 8 * DAY_MS + 60_000;
    const { queue, sent } = recordingQueue();
    await resetProviderRequests();

    const lines = captureLogs();
    const first = await recheckProviderKeys(db(), config(), queue, logger);
    vi.restoreAllMocks();
    expect(first.checked).toBeGreaterThanOrEqual(3);
    expect(first.rejected).toBeGreaterThanOrEqual(1);
    // The check is the save's: a models list, one per key, with the key attached.
    const asked = (await providerRequests()).filter((r) =>
      keys.some((k) => r.headers.authorization === `Bearer ${k}`),
    );
    expect(asked.map((r) => r.path)).toEqual(["/openai/v1/models", "/openai/v1/models", "/openai/v1/models"]);

    const rows = new Map((await rowsOf(owners)).map((row) => [row.ownerId, row]));
    expect(rows.get(revoked)).toMatchObject({ status: "rejected", rejectedAt: expect.any(Date) });
    for (const owner of [kept, alsoKept]) {
      expect(rows.get(owner)?.status).toBe("valid");
      expect(rows.get(owner)?.lastCheckedAt?.getTime()).toBeGreaterThan(before);
    }
    const mine = () => sent.filter((event) => owners.includes(event.ownerId));
    expect(mine()).toEqual([
      {
        version: 1,
        type: "provider_key.rejected",
        ownerId: revoked,
        occurredAt: rows.get(revoked)?.rejectedAt?.toISOString(),
        details: { provider: "openai", hint: (keys[1] as string).slice(-4), via: "recheck", status: 401 },
      },
    ]);
    const audit = await db()
      .select()
      .from(auditEvents)
      .where(and(inArray(auditEvents.ownerId, owners), eq(auditEvents.action, "provider_key.rejected")));
    expect(audit.map((a) => [a.ownerId, a.actor])).toEqual([[revoked, "system:cron"]]);
    // Progress is logged; the fake's 401 body (which echoes the key) and the keys are not.
    expect(lines.some((line) => line.includes('"provider_keys_recheck"'))).toBe(true);
    for (const key of keys) expect(lines.join("\n")).not.toContain(key);
    expect(lines.join("\n")).not.toContain("Incorrect API key");

    await resetProviderRequests();
    await recheckProviderKeys(db(), config(), queue, logger);
    expect(mine()).toHaveLength(1);
    expect((await rowsOf(owners)).map((row) => row.status).sort()).toEqual(["rejected", "valid", "valid"]);
    expect(
      (await providerRequests()).filter((r) => keys.some((k) => r.headers.authorization === `Bearer ${k}`)),
    ).toEqual([]);
  });

  it("takes the oldest due keys first, at most the batch size, and leaves keys checked within the interval", async () => {
    const oldest = await keyCheckedDaysAgo(`sk-good-oldest-${crypto.randomUUID()}`, 30);
    const older = await keyCheckedDaysAgo(`sk-good-older-${crypto.randomUUID()}`, 20);
    const recent = await keyCheckedDaysAgo(`sk-good-recent-${crypto.randomUUID()}`, 3);
    const before = new Map((await rowsOf([oldest, older, recent])).map((r) => [r.ownerId, r.lastCheckedAt]));

    const progress = await recheckProviderKeys(
      db(),
      config({ PROVIDER_KEY_RECHECK_BATCH: "1" }),
      undefined,
      logger,
    );
    expect(progress.checked).toBe(1);
    expect((await rowOf(oldest))?.lastCheckedAt).not.toEqual(before.get(oldest));
    expect((await rowOf(older))?.lastCheckedAt).toEqual(before.get(older));

    await recheckProviderKeys(db(), config({ PROVIDER_KEY_RECHECK_BATCH: "500" }), undefined, logger);
    expect((await rowOf(older))?.lastCheckedAt).not.toEqual(before.get(older));
    expect((await rowOf(recent))?.lastCheckedAt).toEqual(before.get(recent));
    // A shorter interval makes the 3-day-old key due.
    await recheckProviderKeys(db(), config({ PROVIDER_KEY_RECHECK_DAYS: "2" }), undefined, logger);
    expect((await rowOf(recent))?.lastCheckedAt).not.toEqual(before.get(recent));
  });

  it("an unreachable provider changes nothing the user sees, and the key waits for the next interval", async () => {
    const owner = await keyCheckedDaysAgo(`sk-good-unreachable-${crypto.randomUUID()}`, 8);
    const before = await rowOf(owner);
    const { queue, sent } = recordingQueue();
    const nowhere = config({ PROVIDER_BASE_URLS: JSON.stringify({ openai: "http://127.0.0.1:9/v1" }) });
    const progress = await recheckProviderKeys(db(), nowhere, queue, logger);
    expect(progress.unreachable).toBeGreaterThanOrEqual(1);
    const after = await rowOf(owner);
    expect(after).toMatchObject({
      status: "valid",
      rejectedAt: null,
      lastCheckedAt: before?.lastCheckedAt,
      validatedAt: before?.validatedAt,
      ciphertext: before?.ciphertext,
    });
    expect(after?.checkAttemptedAt.getTime()).toBeGreaterThan(before?.checkAttemptedAt.getTime() as number);
    expect(sent.filter((event) => event.ownerId === owner)).toEqual([]);
  });
});

describe("the re-check's configuration", () => {
  it("defaults to 20 keys a run every 7 days; out-of-range values are refused by name", () => {
    expect(config().providerKeyRecheck).toEqual({ batchSize: 20, intervalDays: 7 });
    for (const bad of [{ PROVIDER_KEY_RECHECK_BATCH: "0" }, { PROVIDER_KEY_RECHECK_DAYS: "x" }]) {
      const thrown = (() => {
        try {
          config(bad);
        } catch (error) {
          return error;
        }
      })();
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).problems.join()).toContain(Object.keys(bad)[0]);
    }
  });
});

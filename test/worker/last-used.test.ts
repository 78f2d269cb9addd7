/**
 * `last_used_at` records real uses only (docs/DESIGN.md#the-key-check): a revoked, expired or
 * disabled key never moves it, even with its last-used gate open.
 */
import { eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiKeys } from "../../src/db/schema";
import { lastUsedGateKey } from "../../src/keys/keyspace";
import { touchLastUsed } from "../../src/keys/repository";
import { asUser, expectProblem, newUserId } from "../support/http";
import { leasedRun } from "../support/stack";
import { db } from "../support/stores";
import { issueKey, upstashCommand, v1 } from "../support/v1";

const lastUsedAt = async (keyId: string) =>
  (await db().select({ at: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, keyId)))[0]?.at;

/** Forgets every recorded use and opens the gate, so only the next request could write one. */
async function forgetUse(keyId: string) {
  await db().execute(sql`update api_keys set last_used_at = null where id = ${keyId}::uuid`);
  await upstashCommand("DEL", lastUsedGateKey(keyId));
}

afterEach(() => {
  vi.useRealTimers();
});

describe("last_used_at", () => {
  it("a live key's first use in a minute writes it (the control case)", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    await forgetUse(key.id);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect(await lastUsedAt(key.id)).toBeInstanceOf(Date);
  });

  it("a revoked key never writes it, cold", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    await forgetUse(key.id);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
    expect(await lastUsedAt(key.id)).toBeNull();
  });

  it("a key revoked while cached never writes it, although the Upstash round trip opened the gate", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    // Shut by someone else, so this isolate does not remember opening it.
    await upstashCommand("SET", lastUsedGateKey(key.id), "1", "EX", "60");
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await forgetUse(key.id);
    expect((await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
    // The gate was opened by that request: only the key's death kept the write away. (Leased: the
    // gate is opened with usage, after the verdict, and a dead key's never is.)
    expect(await upstashCommand("EXISTS", lastUsedGateKey(key.id))).toBe(leasedRun ? 0 : 1);
    expect(await lastUsedAt(key.id)).toBeNull();
  });

  it("an expired key never writes it", async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const key = await issueKey(newUserId(), ["projects:read"], { expiresAt });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await forgetUse(key.id);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 2 * 3_600_000);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_expired");
    expect(await lastUsedAt(key.id)).toBeNull();
  });

  it("a disabled key never writes it", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    await forgetUse(key.id);
    expect((await asUser(key.ownerId, "PATCH", `/api/keys/${key.id}`, { enabled: false })).status).toBe(200);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_disabled");
    expect(await lastUsedAt(key.id)).toBeNull();
  });

  it("the write itself skips a key that died after its verdict (revoked, expired or disabled)", async () => {
    const revoked = await issueKey(newUserId(), ["projects:read"]);
    const expired = await issueKey(newUserId(), ["projects:read"]);
    const disabled = await issueKey(newUserId(), ["projects:read"]);
    const alive = await issueKey(newUserId(), ["projects:read"]);
    await db().execute(sql`update api_keys set revoked_at = now() where id = ${revoked.id}::uuid`);
    await db().execute(
      sql`update api_keys set expires_at = now() - interval '1 second' where id = ${expired.id}::uuid`,
    );
    await db().execute(sql`update api_keys set enabled = false where id = ${disabled.id}::uuid`);
    for (const key of [revoked, expired, disabled, alive]) await touchLastUsed(db(), key.id);
    expect(await lastUsedAt(revoked.id)).toBeNull();
    expect(await lastUsedAt(expired.id)).toBeNull();
    expect(await lastUsedAt(disabled.id)).toBeNull();
    expect(await lastUsedAt(alive.id)).toBeInstanceOf(Date);
  });
});

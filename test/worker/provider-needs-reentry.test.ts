/**
 * A provider-key row that does not open is stored as `needs_reentry` (docs/DESIGN.md#envelope-format):
 * the user is asked for the key again, and nothing falls back to a key that later opens again.
 */
import { env, exports } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type Env, loadConfig } from "../../src/config/env";
import { providerKeys } from "../../src/db/schema";
import { createLogger } from "../../src/observability/logger";
import { rewrapBatch } from "../../src/providers/rewrap";
import { credentialFor } from "../../src/providers/service";
import { asUser, newUserId } from "../support/http";
import { db } from "../support/stores";

const row = async (ownerId: string, provider = "openai") =>
  (
    await db()
      .select()
      .from(providerKeys)
      .where(and(eq(providerKeys.ownerId, ownerId), eq(providerKeys.provider, provider)))
  )[0];

const setCiphertext = (ownerId: string, ciphertext: string) =>
  db()
    .update(providerKeys)
    .set({ ciphertext })
    .where(and(eq(providerKeys.ownerId, ownerId), eq(providerKeys.provider, "openai")));

/** A user with a stored OpenAI key whose envelope is then replaced by another owner's (its AAD no longer matches). */
async function withUnopenableKey(): Promise<{ userId: string; original: string }> {
  const userId = newUserId();
  const other = newUserId();
  for (const [owner, apiKey] of [
    [userId, "sk-good-reentry-0123456789"],
    [other, "sk-good-reentry-other-9876"],
  ] as const) {
    expect((await asUser(owner, "PUT", "/api/provider-keys/openai", { apiKey })).status).toBe(200);
  }
  const original = (await row(userId))?.ciphertext as string;
  await setCiphertext(userId, (await row(other))?.ciphertext as string);
  expect((await row(userId))?.status).toBe("valid");
  return { userId, original };
}

const cardStatus = async (userId: string) => {
  const { data } = (await (await asUser(userId, "GET", "/api/provider-keys")).json()) as {
    data: { provider: string; status: string }[];
  };
  return data.find((card) => card.provider === "openai")?.status;
};

describe("a row that does not open is stored as needs_reentry", () => {
  it("when the Settings cards are read", async () => {
    const { userId } = await withUnopenableKey();
    expect(await cardStatus(userId)).toBe("needs_reentry");
    expect((await row(userId))?.status).toBe("needs_reentry");
  });

  it("when a generation is routed over RPC", async () => {
    const { userId } = await withUnopenableKey();
    expect(await exports.default.providerRoute(userId, "openai")).toMatchObject({ billing: "blocked" });
    expect((await row(userId))?.status).toBe("needs_reentry");
  });

  it("and stays so: a ciphertext that would open again is not silently used", async () => {
    const { userId, original } = await withUnopenableKey();
    expect(await cardStatus(userId)).toBe("needs_reentry");
    await setCiphertext(userId, original);
    expect(await cardStatus(userId)).toBe("needs_reentry");
    expect((await credentialFor(db(), loadConfig(env as Env), userId, "openai")).kind).toBe("needs_reentry");
    // Entering the key again is the way back.
    const again = await asUser(userId, "PUT", "/api/provider-keys/openai", {
      apiKey: "sk-good-reentry-fresh-1111",
    });
    expect(again.status).toBe(200);
    expect(await cardStatus(userId)).toBe("valid");
  });

  it("when a rotation run meets it", async () => {
    const userId = newUserId();
    expect(
      (await asUser(userId, "PUT", "/api/provider-keys/openai", { apiKey: "sk-good-reentry-rotate-2222" }))
        .status,
    ).toBe(200);
    // Sealed under a master key that is no longer listed: stale for the rotation, and unopenable.
    const sealed = (await row(userId))?.ciphertext as string;
    await setCiphertext(userId, sealed.replace(/^v\d+\./, "v9999."));
    // The run's own configuration: only rows that no listed master key opens are stale for it,
    // and those are unusable in this configuration anyway — other tests' keys are left alone.
    const config = loadConfig(env as Env);
    let unopenable = 0;
    for (let run = 0; run < 50; run++) {
      const progress = await rewrapBatch(db(), config, createLogger({ test: "needs-reentry" }));
      unopenable += progress.unopenable;
      if (progress.remaining === 0) break;
    }
    expect(unopenable).toBeGreaterThan(0);
    expect((await row(userId))?.status).toBe("needs_reentry");
  });
});

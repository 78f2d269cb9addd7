/**
 * Usage per key per hour (docs/DESIGN.md#usage): counted by outcome in the key check's one request,
 * read back by the dashboard, rolled up into Postgres by the Cron Trigger exactly once.
 */
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { usageDoneKey } from "../../src/keys/keyspace";
import { usageHour } from "../../src/keys/usage";
import { rollUpUsage } from "../../src/keys/usage-rollup";
import { createLogger } from "../../src/observability/logger";
import { asUser, newUserId } from "../support/http";
import { db, redis } from "../support/stores";
import { issueKey, upstashCommand, v1 } from "../support/v1";

const HOUR = 3_600_000;

/** A moment 2 s into an hour of its own (a random hour of 2031), so no other test counts there. */
function ownHour(): number {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  const hourStart = Date.UTC(2031, 0, 1) + ((n ?? 0) % (300 * 24)) * HOUR;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(hourStart + 2_000);
  return hourStart;
}

afterEach(() => {
  vi.useRealTimers();
});

interface Usage {
  buckets: { start: string; ok: number; denied: number; limited: number }[];
  totals: { ok: number; denied: number; limited: number };
  complete: boolean;
}
const usageOf = async (ownerId: string, keyId: string, window = "24h") =>
  (await (await asUser(ownerId, "GET", `/api/keys/${keyId}/usage?window=${window}`)).json()) as Usage;

/** Sends 8 ok, 2 denied (403) and 2 limited (429) requests, then 1 denied (401) once disabled. */
async function sendMixedTraffic(owner: string) {
  const key = await issueKey(owner, ["projects:read"], { rateLimit: 10 });
  for (let i = 0; i < 7; i++) expect((await v1(key.key, "/v1/key")).status).toBe(200);
  for (let i = 0; i < 2; i++) {
    const denied = await v1(key.key, "/v1/projects", { method: "POST", body: { name: "x" } });
    expect(denied.status).toBe(403);
  }
  expect((await v1(key.key, "/v1/key")).status).toBe(200);
  for (let i = 0; i < 2; i++) expect((await v1(key.key, "/v1/key")).status).toBe(429);
  expect((await asUser(owner, "PATCH", `/api/keys/${key.id}`, { enabled: false })).status).toBe(200);
  expect((await v1(key.key, "/v1/key")).status).toBe(401);
  return key;
}

const storedRows = async (keyId: string) =>
  (
    await db().execute<{ ok: number; denied: number; limited: number }>(
      sql`select ok, denied, limited from key_usage where key_id = ${keyId}::uuid`,
    )
  ).rows;

describe("usage per key", () => {
  it("counts every request by outcome, and the dashboard reads back exactly what was sent", async () => {
    const hourStart = ownHour();
    const owner = newUserId();
    const key = await sendMixedTraffic(owner);
    const usage = await usageOf(owner, key.id);
    expect(usage.totals).toEqual({ ok: 8, denied: 3, limited: 2 });
    expect(usage.complete).toBe(true);
    expect(usage.buckets).toHaveLength(24);
    expect(usage.buckets.at(-1)).toEqual({
      start: new Date(hourStart).toISOString(),
      ok: 8,
      denied: 3,
      limited: 2,
    });
    const list = (await (await asUser(owner, "GET", "/api/keys")).json()) as {
      data: { id: string; requestsLast24h: number }[];
    };
    expect(list.data.find((k) => k.id === key.id)?.requestsLast24h).toBe(13);
  });

  it("429s answered from the isolate's block cache are counted too", async () => {
    ownHour();
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"], { rateLimit: 10 });
    for (let i = 0; i < 25; i++) await v1(key.key, "/v1/key");
    expect((await usageOf(owner, key.id)).totals).toEqual({ ok: 10, denied: 0, limited: 15 });
  });

  it("the roll-up copies a finished hour once: a re-run, even a forced one, adds nothing twice", async () => {
    const hourStart = ownHour();
    const owner = newUserId();
    const key = await sendMixedTraffic(owner);
    const logger = createLogger({ test: "usage" });
    const later = hourStart + HOUR + 10 * 60_000;

    const first = await rollUpUsage(db(), redis(), logger, later);
    expect(first.copied).toBeGreaterThanOrEqual(1);
    expect(await storedRows(key.id)).toEqual([{ ok: 8, denied: 3, limited: 2 }]);
    const again = await rollUpUsage(db(), redis(), logger, later);
    expect(again.copied).toBe(0);
    await upstashCommand("DEL", usageDoneKey(usageHour(hourStart)));
    await rollUpUsage(db(), redis(), logger, later);
    expect(await storedRows(key.id)).toEqual([{ ok: 8, denied: 3, limited: 2 }]);

    // Read later from Postgres, the numbers are the same; the 7-day view sums them into its day.
    vi.setSystemTime(later);
    expect((await usageOf(owner, key.id)).totals).toEqual({ ok: 8, denied: 3, limited: 2 });
    const week = await usageOf(owner, key.id, "7d");
    expect(week.buckets).toHaveLength(7);
    expect(week.totals).toEqual({ ok: 8, denied: 3, limited: 2 });
  });

  it("an hour not yet over (plus its grace) is left alone", async () => {
    const hourStart = ownHour();
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"]);
    await v1(key.key, "/v1/key");
    await rollUpUsage(db(), redis(), createLogger(), hourStart + HOUR + 60_000);
    expect(await storedRows(key.id)).toEqual([]);
  });

  it("keeps 90 days: older rows are deleted by the roll-up", async () => {
    const owner = newUserId();
    const key = await issueKey(owner, ["projects:read"]);
    await db().execute(sql`insert into key_usage (key_id, hour, ok) values
      (${key.id}::uuid, date_trunc('hour', now()) - interval '91 days', 1),
      (${key.id}::uuid, date_trunc('hour', now()) - interval '89 days', 2)`);
    await rollUpUsage(db(), redis(), createLogger());
    expect((await storedRows(key.id)).map((r) => r.ok)).toEqual([2]);
  });

  it("another owner's key and a malformed id are 404; an unknown window is 400", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await asUser(newUserId(), "GET", `/api/keys/${key.id}/usage`)).status).toBe(404);
    expect((await asUser(key.ownerId, "GET", "/api/keys/nope/usage")).status).toBe(404);
    expect((await asUser(key.ownerId, "GET", `/api/keys/${key.id}/usage?window=1y`)).status).toBe(400);
  });
});

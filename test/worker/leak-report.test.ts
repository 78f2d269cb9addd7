/** The public leak report, POST /v1/leaks (docs/DESIGN.md#public-leak-reports). */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema";
import { generateKey } from "../../src/keys/token";
import { LEAK_REPORT_LIMIT } from "../../src/limits/leak-report-limit";
import { expectProblem, newUserId } from "../support/http";
import { db } from "../support/stores";
import { freshIp, issueKey, v1 } from "../support/v1";
import { inOneMinuteWindow } from "../support/window";

const report = (keys: unknown, ip = freshIp()) =>
  v1(null, "/v1/leaks", { method: "POST", body: { keys }, ip });

describe("POST /v1/leaks", () => {
  it("one valid and two invalid keys → 202 {received: 3}; exactly the valid one is revoked, audited", async () => {
    const ownerId = newUserId();
    const leaked = await issueKey(ownerId, ["projects:read"]);
    const bystander = await issueKey(ownerId, ["projects:read"]);
    const response = await report([leaked.key, "vk_sk_not-a-key", generateKey()]);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ received: 3 });

    await expectProblem(await v1(leaked.key, "/v1/key"), 401, "key_revoked");
    expect((await v1(bystander.key, "/v1/key")).status).toBe(200);
    const audit = await db()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.ownerId, ownerId), eq(auditEvents.action, "key.leaked")));
    expect(audit.map((a) => [a.targetId, a.actor])).toEqual([[leaked.id, "system:leak-report"]]);
    expect(audit[0]?.metadata).toMatchObject({ reporter: "public", secret: "current" });
    expect(JSON.stringify(audit)).not.toContain(leaked.key);
  });

  it("answers the same whether or not anything was a key", async () => {
    const ownerId = newUserId();
    const live = await issueKey(ownerId, ["projects:read"]);
    const withKey = await report([live.key, generateKey()]);
    const without = await report([generateKey(), "hello"]);
    expect([withKey.status, without.status]).toEqual([202, 202]);
    expect(await withKey.json()).toEqual(await without.json());
    // A key reported twice stays revoked; the second report looks like any other.
    const again = await report([live.key, "x"]);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ received: 2 });
  });

  it(`is limited per client address: report ${LEAK_REPORT_LIMIT + 1} in a minute → 429 with Retry-After`, async () => {
    inOneMinuteWindow();
    const ip = freshIp();
    for (let i = 0; i < LEAK_REPORT_LIMIT; i++) expect((await report(["x"], ip)).status).toBe(202);
    const refused = await report(["x"], ip);
    await expectProblem(refused, 429, "rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("RateLimit-Policy")).toBe(`"ip";q=${LEAK_REPORT_LIMIT};w=60`);
    // Another client is not affected.
    expect((await report(["x"])).status).toBe(202);
  });

  it("at most 100 strings, at least one; unknown fields and non-strings are 400", async () => {
    await expectProblem(await report(Array.from({ length: 101 }, () => "x")), 400, "invalid_request");
    await expectProblem(await report([]), 400, "invalid_request");
    await expectProblem(await report([1]), 400, "invalid_request");
    await expectProblem(
      await v1(null, "/v1/leaks", { method: "POST", body: { keys: ["x"], who: "me" } }),
      400,
      "invalid_request",
    );
  });
});

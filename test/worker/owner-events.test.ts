/** Owner events on EVENTS_QUEUE, each also an audit row (docs/DESIGN.md#owner-events). */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { auditEvents } from "../../src/db/schema";
import { announceExpiringKeys } from "../../src/keys/expiring";
import { generateKey, randomBase62 } from "../../src/keys/token";
import { createLogger } from "../../src/observability/logger";
import { asUser, newUserId, ORIGIN } from "../support/http";
import { recordingQueue } from "../support/queue";
import { db } from "../support/stores";
import { freshIp, issueKey } from "../support/v1";

async function post(path: string, body: unknown, queue: Queue, key?: string): Promise<Response> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "CF-Connecting-IP": freshIp(),
  };
  if (key) headers.Authorization = `Bearer ${key}`;
  const request = new Request(`${ORIGIN}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, EVENTS_QUEUE: queue }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const auditOf = (ownerId: string, action: string) =>
  db()
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.ownerId, ownerId), eq(auditEvents.action, action)));

describe("key.leak_revoked", () => {
  it("a public report of one valid and two invalid keys sends exactly one message, without the secret", async () => {
    const ownerId = newUserId();
    const leaked = await issueKey(ownerId, ["projects:read"]);
    const { queue, sent } = recordingQueue();
    const response = await post("/v1/leaks", { keys: [leaked.key, "nope", generateKey()] }, queue);
    expect(response.status).toBe(202);
    expect(sent).toEqual([
      {
        version: 1,
        type: "key.leak_revoked",
        ownerId,
        occurredAt: expect.any(String),
        keyId: leaked.id,
        keyStart: leaked.key.slice(0, 10),
        details: { reporter: "public", secret: "current" },
      },
    ]);
    expect(JSON.stringify(sent)).not.toContain(leaked.key);
    expect(await auditOf(ownerId, "key.leaked")).toHaveLength(1);
  });

  it("a refusing queue never fails the report: still 202, the key revoked and audited", async () => {
    const ownerId = newUserId();
    const leaked = await issueKey(ownerId, ["projects:read"]);
    const { queue } = recordingQueue(true);
    expect((await post("/v1/leaks", { keys: [leaked.key] }, queue)).status).toBe(202);
    expect(await auditOf(ownerId, "key.leaked")).toHaveLength(1);
  });
});

describe("deploy.secrets_blocked", () => {
  it("a refused deployment is audited and sent, naming paths and kinds only; a refusing queue changes nothing", async () => {
    for (const fail of [false, true]) {
      const ownerId = newUserId();
      const { key, id: keyId } = await issueKey(ownerId, ["projects:write", "deploy:write"], {
        rateLimit: 1000,
      });
      const secret = `AIza${randomBase62(35)}`;
      const { queue, sent } = recordingQueue(fail);
      const created = await post(
        "/v1/projects",
        { name: "shop", files: { "app.js": `k="${secret}"` } },
        queue,
        key,
      );
      const project = (await created.json()) as { id: string };
      const refused = await post(`/v1/projects/${project.id}/deployments`, {}, queue, key);
      expect(refused.status).toBe(422);
      const secrets = [{ path: "app.js", line: 1, kind: "google_api_key" }];
      expect(sent).toEqual(
        fail
          ? []
          : [
              {
                version: 1,
                type: "deploy.secrets_blocked",
                ownerId,
                occurredAt: expect.any(String),
                keyId,
                project: { id: project.id, name: "shop" },
                details: { secrets, overridable: true },
              },
            ],
      );
      const audit = await auditOf(ownerId, "deploy.secrets_blocked");
      expect(audit.map((a) => [a.targetId, a.metadata])).toEqual([
        [project.id, { keyId, secrets, overridable: true }],
      ]);
      expect(JSON.stringify([sent, audit])).not.toContain(secret);
    }
  });
});

describe("key.expiring", () => {
  it("is sent once over two Cron runs, 7 days ahead, and audited; a key further out is not", async () => {
    const ownerId = newUserId();
    const day = 86_400_000;
    const soon = await issueKey(ownerId, ["projects:read"], {
      expiresAt: new Date(Date.now() + 3 * day).toISOString(),
    });
    await issueKey(ownerId, ["projects:read"], { expiresAt: new Date(Date.now() + 30 * day).toISOString() });
    const { queue, sent } = recordingQueue();
    const logger = createLogger({ test: "key.expiring" });
    await announceExpiringKeys(db(), queue, logger);
    await announceExpiringKeys(db(), queue, logger);
    const mine = sent.filter((event) => event.ownerId === ownerId);
    expect(mine).toEqual([
      {
        version: 1,
        type: "key.expiring",
        ownerId,
        occurredAt: expect.any(String),
        keyId: soon.id,
        keyStart: soon.key.slice(0, 10),
        details: { expiresAt: expect.any(String) },
      },
    ]);
    expect(await auditOf(ownerId, "key.expiring")).toHaveLength(1);

    // A changed expiry is announced again, once.
    const later = new Date(Date.now() + 5 * day).toISOString();
    expect((await asUser(ownerId, "PATCH", `/api/keys/${soon.id}`, { expiresAt: later })).status).toBe(200);
    await announceExpiringKeys(db(), queue, logger);
    await announceExpiringKeys(db(), queue, logger);
    expect(sent.filter((event) => event.ownerId === ownerId).map((e) => e.details.expiresAt)).toEqual([
      mine[0]?.details.expiresAt,
      later,
    ]);
  });
});

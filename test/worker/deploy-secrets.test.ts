/** The deploy check and the warnings of file writes (docs/DESIGN.md#secrets-in-files). */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { auditEvents, deployments } from "../../src/db/schema";
import { PERMISSIONS } from "../../src/domain/permissions";
import { randomBase62 } from "../../src/keys/token";
import { asUser, expectProblem, newUserId, ORIGIN } from "../support/http";
import { db } from "../support/stores";
import { freshIp, issueKey, v1 } from "../support/v1";

/** A Queue binding that records what is sent: the platform's queue is not part of the local stack. */
function recordingQueue() {
  const sent: unknown[] = [];
  const queue = { send: async (message: unknown) => void sent.push(message) } as unknown as Queue;
  return { queue, sent };
}

async function caller() {
  const ownerId = newUserId();
  const { key } = await issueKey(ownerId, [...PERMISSIONS], { rateLimit: 1000 });
  return { ownerId, key };
}

async function projectWith(key: string, files: Record<string, string>): Promise<string> {
  const response = await v1(key, "/v1/projects", { method: "POST", body: { name: "site", files } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function deploy(key: string, projectId: string, body?: unknown) {
  const { queue, sent } = recordingQueue();
  const headers: Record<string, string> = { Authorization: `Bearer ${key}`, "CF-Connecting-IP": freshIp() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const request = new Request(`${ORIGIN}/v1/projects/${projectId}/deployments`, {
    method: "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, DEPLOY_QUEUE: queue }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { response, text, sent, body: JSON.parse(text) as Record<string, unknown> };
}

const deploymentsOf = (projectId: string) =>
  db().select().from(deployments).where(eq(deployments.projectId, projectId));
const configWith = (secret: string) =>
  `// settings\nexport const api = "https://vulk.dev";\nexport const key = "${secret}";\n`;
const openAiKey = () => `sk-proj-${randomBase62(60)}T3BlbkFJ${randomBase62(60)}`;

describe("deploy check: live vk_sk_ keys", () => {
  it("a live key in src/config.js line 3 → 422 naming the path and line, without the key; nothing queued", async () => {
    const { key } = await caller();
    const leaked = await caller(); // any owner's live key blocks
    const projectId = await projectWith(key, {
      "src/config.js": configWith(leaked.key),
      "index.html": "<p>hi</p>",
    });
    const { response, text, sent, body } = await deploy(key, projectId, { acknowledgeSecrets: true });
    await expectProblem(new Response(text, response), 422, "secrets_in_files");
    expect(body.secrets).toEqual([{ path: "src/config.js", line: 3, kind: "vulk_api_key" }]);
    expect(body.detail).toMatch(/roll/);
    expect(text).not.toContain(leaked.key);
    expect(text).not.toContain(leaked.ownerId);
    expect(sent).toEqual([]);
    expect(await deploymentsOf(projectId)).toEqual([]);
  });

  it("the same file with a revoked key → queued", async () => {
    const { key } = await caller();
    const ownerId = newUserId();
    const revoked = await issueKey(ownerId, ["projects:read"]);
    expect((await asUser(ownerId, "DELETE", `/api/keys/${revoked.id}`)).status).toBe(204);
    const projectId = await projectWith(key, { "src/config.js": configWith(revoked.key) });
    const { response, sent } = await deploy(key, projectId);
    expect(response.status).toBe(202);
    expect(sent).toHaveLength(1);
  });
});

describe("deploy check: rolled keys", () => {
  it("a previous secret still in its grace period blocks; one rolled away without grace does not", async () => {
    const { key } = await caller();
    const ownerId = newUserId();
    const graced = await issueKey(ownerId, ["projects:read"]);
    const gone = await issueKey(ownerId, ["projects:read"]);
    const roll = (id: string, gracePeriodSeconds: number) =>
      asUser(ownerId, "POST", `/api/keys/${id}/roll`, { gracePeriodSeconds });
    expect((await roll(graced.id, 3600)).status).toBe(200);
    expect((await roll(gone.id, 0)).status).toBe(200);

    const blocked = await deploy(key, await projectWith(key, { "a.js": configWith(graced.key) }));
    expect(blocked.response.status).toBe(422);
    expect(blocked.body.secrets).toEqual([{ path: "a.js", line: 3, kind: "vulk_api_key" }]);
    const clear = await deploy(key, await projectWith(key, { "a.js": configWith(gone.key) }));
    expect(clear.response.status).toBe(202);
  });
});

describe("deploy check: provider-key patterns", () => {
  it("an OpenAI-style key → 422, then 202 with acknowledgeSecrets, audited without the secret", async () => {
    const { key, ownerId } = await caller();
    const secret = openAiKey();
    const projectId = await projectWith(key, { ".env": `OPENAI_API_KEY=${secret}\n` });
    const refused = await deploy(key, projectId);
    expect(refused.response.status).toBe(422);
    expect(refused.body).toMatchObject({
      code: "secrets_in_files",
      secrets: [{ path: ".env", line: 1, kind: "openai_api_key" }],
    });
    expect(refused.text).not.toContain(secret);
    expect(refused.sent).toEqual([]);

    const accepted = await deploy(key, projectId, { acknowledgeSecrets: true });
    expect(accepted.response.status).toBe(202);
    expect(accepted.sent).toHaveLength(1);
    const audit = await db()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.ownerId, ownerId), eq(auditEvents.action, "deploy.secrets_acknowledged")));
    expect(audit).toHaveLength(1);
    expect(audit[0]?.targetId).toBe(accepted.body.id);
    expect(audit[0]?.metadata).toMatchObject({
      projectId,
      secrets: [{ path: ".env", line: 1, kind: "openai_api_key" }],
    });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it("sk- in prose or a placeholder → no finding, deployed", async () => {
    const { key } = await caller();
    const projectId = await projectWith(key, {
      "README.md": "Set OPENAI_API_KEY to your sk-... key (sk-xxxx, YOUR_KEY); scikit-learn is sk-learn.\n",
      ".env.example":
        "OPENAI_API_KEY=sk-YOUR_KEY\nANTHROPIC_API_KEY=sk-ant-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
    });
    const { response, sent } = await deploy(key, projectId);
    expect(response.status).toBe(202);
    expect(sent).toHaveLength(1);
  });

  it("acknowledgeSecrets must be a boolean", async () => {
    const { key } = await caller();
    const projectId = await projectWith(key, {});
    const { response, text } = await deploy(key, projectId, { acknowledgeSecrets: "yes" });
    await expectProblem(new Response(text, response), 400, "invalid_request");
  });
});

describe("file writes answer with warnings instead of refusing", () => {
  it("POST /v1/projects and PUT of a file list {path, line, kind} of live keys and provider patterns", async () => {
    const { key } = await caller();
    const leaked = await caller();
    const response = await v1(key, "/v1/projects", {
      method: "POST",
      body: { name: "site", files: { "src/config.js": configWith(leaked.key), "a.txt": "plain" } },
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; warnings: unknown };
    expect(created.warnings).toEqual([{ path: "src/config.js", line: 3, kind: "vulk_api_key" }]);

    const groq = `gsk_${randomBase62(52)}`;
    const put = await v1(key, `/v1/projects/${created.id}/files/${encodeURIComponent("lib/ai.ts")}`, {
      method: "PUT",
      body: { content: `\nconst groq = "${groq}";\n` },
    });
    expect(put.status).toBe(201);
    const text = await put.text();
    expect(JSON.parse(text)).toMatchObject({
      warnings: [{ path: "lib/ai.ts", line: 2, kind: "groq_api_key" }],
    });
    expect(text).not.toContain(groq);
  });
});

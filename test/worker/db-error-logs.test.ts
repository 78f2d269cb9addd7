/**
 * Database errors reach the logs as class, SQLSTATE, constraint and query name only — never
 * Drizzle's "Failed query: … params: …" text, which carries owner ids, names and ciphertexts
 * (docs/DESIGN.md#api-conventions).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { describeDbError } from "../../src/db/errors";
import { projectFiles } from "../../src/db/schema";
import { createLogger } from "../../src/observability/logger";
import { expectProblem, newUserId } from "../support/http";
import { captureLogs } from "../support/logs";
import { db } from "../support/stores";
import { issueKey, setFault, v1 } from "../support/v1";

let logged: string[] = [];
beforeEach(() => {
  logged = captureLogs();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await setFault("neon", "none");
});

/** A real constraint violation from the run's Postgres, through the Worker's own client. */
async function foreignKeyViolation(canary: string): Promise<unknown> {
  try {
    await db()
      .insert(projectFiles)
      .values({ projectId: crypto.randomUUID(), path: canary, content: canary, size: 1 });
  } catch (error) {
    return error;
  }
  throw new Error("the insert was expected to fail");
}

describe("database errors in logs", () => {
  it("describeDbError gives class, SQLSTATE, constraint and query name, and no text of the query", async () => {
    const canary = `canary-${crypto.randomUUID()}`;
    const error = await foreignKeyViolation(canary);
    expect(String(error)).toContain(canary); // the raw error does carry it
    const described = describeDbError(error);
    expect(described).toMatchObject({ sqlState: "23503", query: "insert project_files" });
    expect(described.class).toBeTruthy();
    expect(described.constraint).toMatch(/project_files/);
    expect(JSON.stringify(described)).not.toContain(canary);
    expect(JSON.stringify(described)).not.toMatch(/params|Failed query|violates/i);
  });

  it("a logged database error carries none of its parameters", async () => {
    const canary = `canary-${crypto.randomUUID()}`;
    createLogger({ requestId: "r" }).log("error", "request_failed", {
      error: await foreignKeyViolation(canary),
    });
    const line = logged.find((l) => l.includes("request_failed")) ?? "";
    expect(JSON.parse(line)).toMatchObject({ error: { sqlState: "23503" } });
    expect(line).not.toContain(canary);
    expect(line).not.toMatch(/params:|Failed query/);
  });

  it("a route whose query fails is 503 and its log line names no owner, project name or parameter", async () => {
    const key = await issueKey(newUserId(), ["projects:write"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200); // cached: the key check needs no Neon
    await setFault("neon", "error");
    const canary = `canary-${crypto.randomUUID()}`;
    const response = await v1(key.key, "/v1/projects", { method: "POST", body: { name: canary } });
    await expectProblem(response, 503, "service_unavailable");

    const failure = logged.find((l) => l.includes("request_failed"));
    expect(failure).toBeDefined();
    for (const line of logged) {
      expect(line).not.toContain(canary);
      expect(line).not.toContain(key.ownerId);
      expect(line).not.toMatch(/params:|Failed query/);
    }
  });
});

/** At most 100 projects per owner; one more is 409 quota_exceeded, also under concurrent creates (docs/DESIGN.md#public-api-resources). */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { projectFiles, projects } from "../../src/db/schema";
import { PROJECT_LIMITS } from "../../src/projects/rules";
import { expectProblem, newUserId } from "../support/http";
import { db } from "../support/stores";
import { issueKey, v1 } from "../support/v1";

/** Stored directly: the cap is about the count, not how the rows arrived. */
async function seedProjects(ownerId: string, count: number): Promise<void> {
  await db()
    .insert(projects)
    .values(Array.from({ length: count }, (_, i) => ({ ownerId, name: `seed ${i}` })));
}

const countOf = async (ownerId: string) =>
  (await db().select({ id: projects.id }).from(projects).where(eq(projects.ownerId, ownerId))).length;

describe("projects per owner", () => {
  it("the 100th project is created, the 101st is 409 quota_exceeded and stores nothing", async () => {
    expect(PROJECT_LIMITS.projectsPerOwner).toBe(100);
    const key = await issueKey(newUserId(), ["projects:write"], { rateLimit: 1000 });
    await seedProjects(key.ownerId, 99);

    const last = await v1(key.key, "/v1/projects", {
      method: "POST",
      body: { name: "hundredth", files: { "a.txt": "a" } },
    });
    expect(last.status).toBe(201);
    expect(await last.json()).toMatchObject({ name: "hundredth", files: { "a.txt": "a" } });

    const over = await v1(key.key, "/v1/projects", {
      method: "POST",
      body: { name: "one too many", files: { "b.txt": "b" } },
    });
    const body = await expectProblem(over, 409, "quota_exceeded");
    expect(body.detail).toContain("100");
    expect(await countOf(key.ownerId)).toBe(100);
    const files = await db()
      .select({ path: projectFiles.path })
      .from(projectFiles)
      .innerJoin(projects, eq(projects.id, projectFiles.projectId))
      .where(eq(projects.ownerId, key.ownerId));
    expect(files.map((f) => f.path)).toEqual(["a.txt"]);
  });

  it("concurrent creates never pass the cap", async () => {
    const key = await issueKey(newUserId(), ["projects:write"], { rateLimit: 1000 });
    await seedProjects(key.ownerId, 97);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        v1(key.key, "/v1/projects", {
          method: "POST",
          body: { name: `racer ${i}`, files: { "x.txt": "x" } },
        }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409, 409, 409]);
    expect(await countOf(key.ownerId)).toBe(100);
  });

  it("another owner's projects do not count", async () => {
    const crowded = newUserId();
    await seedProjects(crowded, 100);
    const key = await issueKey(newUserId(), ["projects:write"]);
    expect((await v1(key.key, "/v1/projects", { method: "POST", body: { name: "mine" } })).status).toBe(201);
  });
});

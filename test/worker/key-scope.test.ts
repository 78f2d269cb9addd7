/** Keys scoped to projects (docs/DESIGN.md#project-scope): they see only their projects, from the cached row. */
import { describe, expect, it } from "vitest";
import { asUser, expectProblem, newUserId } from "../support/http";
import { countRequests } from "../support/stack";
import { issueKey, v1 } from "../support/v1";

async function projectsOf(ownerId: string, count: number): Promise<string[]> {
  const writer = await issueKey(ownerId, ["projects:write"]);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await v1(writer.key, "/v1/projects", { method: "POST", body: { name: `p${i}` } });
    expect(created.status).toBe(201);
    ids.push(((await created.json()) as { id: string }).id);
  }
  return ids;
}

const ALL = ["projects:read", "projects:write", "deploy:write", "export:read"] as const;

describe("a key scoped to projects", () => {
  it("lists only its projects and answers 404 for every other, exactly like a missing one", async () => {
    const owner = newUserId();
    const [mine, other] = (await projectsOf(owner, 2)) as [string, string];
    const scoped = await issueKey(owner, [...ALL], { projects: [mine] });

    const list = await v1(scoped.key, "/v1/projects");
    expect(((await list.json()) as { data: { id: string }[] }).data.map((p) => p.id)).toEqual([mine]);
    expect((await v1(scoped.key, `/v1/projects/${mine}`)).status).toBe(200);

    const missing = await v1(scoped.key, `/v1/projects/${crypto.randomUUID()}`);
    const outside = await v1(scoped.key, `/v1/projects/${other}`);
    const [a, b] = [
      await expectProblem(missing, 404, "not_found"),
      await expectProblem(outside, 404, "not_found"),
    ];
    expect(b.detail).toBe(a.detail);
    for (const [method, path, body] of [
      ["PATCH", `/v1/projects/${other}`, { name: "x" }],
      ["PUT", `/v1/projects/${other}/files/a.txt`, { content: "x" }],
      ["POST", `/v1/projects/${other}/deployments`, undefined],
      ["GET", `/v1/projects/${other}/export`, undefined],
    ] as const) {
      await expectProblem(await v1(scoped.key, path, { method, body }), 404, "not_found");
    }
  });

  it("cannot create projects: 403 missing_permission saying why", async () => {
    const owner = newUserId();
    const [mine] = (await projectsOf(owner, 1)) as [string];
    const scoped = await issueKey(owner, ["projects:write"], { projects: [mine] });
    const refused = await v1(scoped.key, "/v1/projects", { method: "POST", body: { name: "new" } });
    const body = await expectProblem(refused, 403, "missing_permission");
    expect(body.detail).toMatch(/limited to specific projects/);
  });

  it("is enforced from the cached row: a warm scoped request costs no Neon query beyond the route's own", async () => {
    const owner = newUserId();
    const [mine, other] = (await projectsOf(owner, 2)) as [string, string];
    const scoped = await issueKey(owner, ["projects:read"], { projects: [mine] });
    await v1(scoped.key, "/v1/key");
    const refused = await countRequests(() => v1(scoped.key, `/v1/projects/${other}`));
    expect(refused.result.status).toBe(404);
    expect(refused.neon).toBe(0);
  });

  it("PATCH widens or narrows the scope, in force on the next request", async () => {
    const owner = newUserId();
    const [first, second] = (await projectsOf(owner, 2)) as [string, string];
    const key = await issueKey(owner, ["projects:read"], { projects: [first] });
    expect((await v1(key.key, `/v1/projects/${second}`)).status).toBe(404);
    const widened = await asUser(owner, "PATCH", `/api/keys/${key.id}`, { projects: null });
    expect(((await widened.json()) as { projects: unknown }).projects).toBeNull();
    expect((await v1(key.key, `/v1/projects/${second}`)).status).toBe(200);
    await asUser(owner, "PATCH", `/api/keys/${key.id}`, { projects: [second] });
    expect((await v1(key.key, `/v1/projects/${first}`)).status).toBe(404);
    expect((await v1(key.key, `/v1/projects/${second}`)).status).toBe(200);
  });

  it("accepts only the owner's own project ids, at least one and at most 100", async () => {
    const owner = newUserId();
    const [theirs] = (await projectsOf(newUserId(), 1)) as [string];
    const [mine] = (await projectsOf(owner, 1)) as [string];
    const create = (projects: unknown) =>
      asUser(owner, "POST", "/api/keys", { name: "k", permissions: ["projects:read"], projects });
    const foreign = await expectProblem(await create([mine, theirs]), 400, "invalid_request");
    expect(JSON.stringify(foreign.errors)).toContain(theirs);
    await expectProblem(await create([]), 400, "invalid_request");
    await expectProblem(await create(["not-a-uuid"]), 400, "invalid_request");
    const tooMany = Array.from({ length: 101 }, () => crypto.randomUUID());
    await expectProblem(await create(tooMany), 400, "invalid_request");
    const listed = await asUser(owner, "GET", "/api/keys");
    expect(((await listed.json()) as { data: unknown[] }).data).toHaveLength(1); // only the writer key
    const ok = await create([mine.toUpperCase(), mine]);
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { projects: string[] }).projects).toEqual([mine]);
  });
});

describe("GET /api/projects", () => {
  it("lists the signed-in user's projects for the scope picker, and no one else's", async () => {
    const owner = newUserId();
    const ids = await projectsOf(owner, 3);
    await projectsOf(newUserId(), 1);
    const response = await asUser(owner, "GET", "/api/projects");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { id: string; name: string }[] };
    expect(body.data.map((p) => p.id).sort()).toEqual([...ids].sort());
    expect(body.data.map((p) => p.name).sort()).toEqual(["p0", "p1", "p2"]);
  });
});

import { eq } from "drizzle-orm";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { deployments } from "../../src/db/schema";
import { PERMISSIONS } from "../../src/domain/permissions";
import { PROJECT_LIMITS } from "../../src/projects/rules";
import { expectProblem, newUserId, workerFetch } from "../support/http";
import { db } from "../support/stores";
import { issueKey, v1 } from "../support/v1";

interface Project {
  id: string;
  name: string;
  description: string | null;
  files: Record<string, string>;
}

async function newCaller(rateLimit = 1000) {
  return (await issueKey(newUserId(), [...PERMISSIONS], { rateLimit })).key;
}

async function newProject(key: string, body: Record<string, unknown> = { name: "site" }): Promise<Project> {
  const response = await v1(key, "/v1/projects", { method: "POST", body });
  expect(response.status).toBe(201);
  return (await response.json()) as Project;
}

const putFile = (key: string, projectId: string, path: string, content: string) =>
  v1(key, `/v1/projects/${projectId}/files/${encodeURIComponent(path)}`, {
    method: "PUT",
    body: { content },
  });

describe("projects", () => {
  it("are created with files, read back, listed newest first and renamed", async () => {
    const key = await newCaller();
    const files = { "index.html": "<h1>hi</h1>", "src/app.ts": "export const x = 1;\n", "docs/ünï.md": "ü" };
    const created = await newProject(key, { name: "site", description: "demo", files });
    expect(created).toMatchObject({ name: "site", description: "demo", files });
    const second = await newProject(key, { name: "second" });

    const read = (await (await v1(key, `/v1/projects/${created.id}`)).json()) as Project;
    expect(read.files).toEqual(files);

    const page1 = (await (await v1(key, "/v1/projects?limit=1")).json()) as {
      data: Project[];
      nextCursor: string;
    };
    expect(page1.data.map((p) => p.id)).toEqual([second.id]);
    const page2 = (await (await v1(key, `/v1/projects?limit=1&cursor=${page1.nextCursor}`)).json()) as {
      data: Project[];
      nextCursor: string | null;
    };
    expect(page2.data.map((p) => p.id)).toEqual([created.id]);
    expect(page2.nextCursor).toBeNull();

    const renamed = await v1(key, `/v1/projects/${created.id}`, {
      method: "PATCH",
      body: { name: "renamed", description: null },
    });
    expect(await renamed.json()).toMatchObject({ name: "renamed", description: null });
  });

  it("refuse invalid bodies with 400 and write nothing", async () => {
    const key = await newCaller();
    for (const body of [
      {},
      { name: "" },
      { name: "x".repeat(101) },
      { name: "a", files: { "a.txt": 5 } },
      { name: "a", extra: 1 },
    ]) {
      await expectProblem(await v1(key, "/v1/projects", { method: "POST", body }), 400, "invalid_request");
    }
    const list = (await (await v1(key, "/v1/projects")).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
  });

  it("a non-JSON body is 415; a body over the /v1 cap is 413", async () => {
    const key = await newCaller();
    const text = await v1(key, "/v1/projects", {
      method: "POST",
      body: "x",
      headers: { "Content-Type": "text/plain" },
    });
    await expectProblem(text, 415, "unsupported_media_type");
    const huge = { name: "big", files: { "a.txt": "x".repeat(9 * 1024 * 1024) } };
    await expectProblem(
      await v1(key, "/v1/projects", { method: "POST", body: huge }),
      413,
      "payload_too_large",
    );
  });
});

describe("file paths", () => {
  const escaping = [
    "../secret",
    "a/../../b",
    "/etc/passwd",
    "a\\b",
    "a\0b",
    "a//b",
    "./a",
    "",
    "x".repeat(257),
  ];

  it.each(escaping.map((p) => [JSON.stringify(p).slice(0, 40), p]))("PUT %s → 400", async (_, path) => {
    const key = await newCaller();
    const project = await newProject(key);
    const response = await putFile(key, project.id, path, "x");
    // An empty segment never reaches the route (it is another URL): 404 there, 400 everywhere else.
    await expectProblem(response, path === "" ? 404 : 400, path === "" ? "not_found" : "invalid_request");
  });

  it.each(escaping.filter(Boolean).map((p) => [JSON.stringify(p).slice(0, 40), p]))(
    "files key %s on create → 400",
    async (_, path) => {
      const key = await newCaller();
      const response = await v1(key, "/v1/projects", {
        method: "POST",
        body: { name: "p", files: { [path]: "x" } },
      });
      await expectProblem(response, 400, "invalid_request");
    },
  );

  it("a nested path, URL-encoded as one segment, is created then replaced", async () => {
    const key = await newCaller();
    const project = await newProject(key);
    const created = await putFile(key, project.id, "src/lib/util.ts", "a");
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ path: "src/lib/util.ts", size: 1, warnings: [] });
    expect((await putFile(key, project.id, "src/lib/util.ts", "bb")).status).toBe(200);
    const read = (await (await v1(key, `/v1/projects/${project.id}`)).json()) as Project;
    expect(read.files).toEqual({ "src/lib/util.ts": "bb" });
  });
});

describe("size caps → 413, nothing written", () => {
  it("a file over 1 MB", async () => {
    const key = await newCaller();
    const project = await newProject(key);
    const big = "x".repeat(PROJECT_LIMITS.fileBytes + 1);
    await expectProblem(await putFile(key, project.id, "big.txt", big), 413, "payload_too_large");
    const multiByte = "é".repeat(PROJECT_LIMITS.fileBytes / 2 + 1); // 2 bytes each: over by bytes, not chars
    await expectProblem(await putFile(key, project.id, "big.txt", multiByte), 413, "payload_too_large");
    const read = (await (await v1(key, `/v1/projects/${project.id}`)).json()) as Project;
    expect(read.files).toEqual({});
  });

  it("more than 200 files", async () => {
    const key = await newCaller();
    const files = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`f${i}.txt`, "x"]));
    await expectProblem(
      await v1(key, "/v1/projects", { method: "POST", body: { name: "many", files } }),
      413,
      "payload_too_large",
    );
    const project = await newProject(key, {
      name: "full",
      files: Object.fromEntries(Object.entries(files).slice(0, 200)),
    });
    await expectProblem(await putFile(key, project.id, "one-more.txt", "x"), 413, "payload_too_large");
    expect((await putFile(key, project.id, "f0.txt", "replacing is fine")).status).toBe(200);
  });

  it("a project over 10 MB", async () => {
    const key = await newCaller();
    const project = await newProject(key);
    const oneMegabyte = "x".repeat(PROJECT_LIMITS.fileBytes);
    for (let i = 0; i < 10; i++)
      expect((await putFile(key, project.id, `part${i}.bin`, oneMegabyte)).status).toBe(201);
    await expectProblem(await putFile(key, project.id, "part10.bin", "x"), 413, "payload_too_large");
  });
});

describe("export", () => {
  it("is a zip holding exactly the project's files", async () => {
    const key = await newCaller();
    const files = {
      "index.html": "<p>ok</p>",
      "src/main.ts": "console.log(1)",
      "assets/ü.txt": "ü".repeat(1000),
    };
    const project = await newProject(key, { name: "Export Me", files });
    const response = await v1(key, `/v1/projects/${project.id}/export`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/zip");
    expect(response.headers.get("Content-Disposition")).toBe('attachment; filename="Export-Me.zip"');
    const entries = unzipSync(new Uint8Array(await response.arrayBuffer()));
    const decoded = Object.fromEntries(
      Object.entries(entries).map(([path, bytes]) => [path, new TextDecoder().decode(bytes)]),
    );
    expect(decoded).toEqual(files);
  });
});

describe("deployments", () => {
  it("are queued with their live URL and readable by id under their project only", async () => {
    const key = await newCaller();
    const project = await newProject(key);
    const other = await newProject(key, { name: "other" });
    const response = await v1(key, `/v1/projects/${project.id}/deployments`, { method: "POST" });
    expect(response.status).toBe(202);
    const deployment = (await response.json()) as { id: string; status: string; url: string };
    expect(deployment).toMatchObject({ status: "queued", url: `https://${project.id}.vulk.app` });
    const read = await v1(key, `/v1/projects/${project.id}/deployments/${deployment.id}`);
    expect(await read.json()).toMatchObject({ id: deployment.id, projectId: project.id, status: "queued" });
    await expectProblem(
      await v1(key, `/v1/projects/${other.id}/deployments/${deployment.id}`),
      404,
      "not_found",
    );
    await expectProblem(await v1(key, `/v1/projects/${project.id}/deployments/nope`), 404, "not_found");
  });
});

describe("deployments on DEPLOY_QUEUE", () => {
  /** A Queue binding that records what is sent (or fails): the platform's queue is not part of the local stack. */
  function recordingQueue(fail = false) {
    const sent: unknown[] = [];
    const queue = {
      send: async (message: unknown) => {
        if (fail) throw new Error("queue unavailable");
        sent.push(message);
      },
    } as unknown as Queue;
    return { queue, sent };
  }

  async function deployWith(queue: Queue) {
    const ownerId = newUserId();
    const key = (await issueKey(ownerId, [...PERMISSIONS], { rateLimit: 1000 })).key;
    const project = await newProject(key);
    const request = new Request(`https://keys.vulk.test/v1/projects/${project.id}/deployments`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "CF-Connecting-IP": "2001:db8:dead:beef::1" },
    });
    const response = await workerFetch(request, { DEPLOY_QUEUE: queue });
    return { response, project, ownerId, key };
  }

  it("sends {deploymentId, projectId, ownerId} when the queue is bound", async () => {
    const { queue, sent } = recordingQueue();
    const { response, project, ownerId } = await deployWith(queue);
    expect(response.status).toBe(202);
    const deployment = (await response.json()) as { id: string };
    expect(sent).toEqual([{ deploymentId: deployment.id, projectId: project.id, ownerId }]);
  });

  it("a queue that refuses the message → 503, and the deployment is marked failed", async () => {
    const { queue } = recordingQueue(true);
    const { response, project, key } = await deployWith(queue);
    await expectProblem(response, 503, "service_unavailable");
    const rows = await db().select().from(deployments).where(eq(deployments.projectId, project.id));
    expect(rows.map((r) => r.status)).toEqual(["failed"]);
    // The key check and the project are fine: the refusal is the queue's alone.
    expect((await v1(key, `/v1/projects/${project.id}`)).status).toBe(200);
  });
});

/**
 * Text Postgres cannot store (U+0000, unpaired UTF-16 surrogates) and file names a JavaScript
 * object cannot hold (`__proto__`) are refused as 400, never a 500 or a silent drop
 * (docs/DESIGN.md#api-conventions).
 */
import { eq } from "drizzle-orm";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { apiKeys, projectFiles } from "../../src/db/schema";
import { PERMISSIONS } from "../../src/domain/permissions";
import { unstorableStrings } from "../../src/lib/text";
import { asUser, expectProblem, newUserId } from "../support/http";
import { db } from "../support/stores";
import { issueKey, v1 } from "../support/v1";

const NUL = "\u0000";
const LONE_HIGH = "\ud83d";
const LONE_LOW = "\ude00";

async function newCaller() {
  return (await issueKey(newUserId(), [...PERMISSIONS], { rateLimit: 1000 })).key;
}

async function expectInvalid(response: Response, path: string) {
  const body = await expectProblem(response, 400, "invalid_request");
  expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
}

describe("unstorableStrings (pure)", () => {
  it("finds NUL and unpaired surrogates in values and names, and lets paired surrogates pass", () => {
    const issues = unstorableStrings({ a: "fine 😀", b: ["ok", `x${NUL}`], [`k${LONE_LOW}`]: "v" });
    expect(issues).toHaveLength(2);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: ["b", 1], message: expect.stringContaining("U+0000") },
        { path: [`k${LONE_LOW}`], message: expect.stringContaining("name") },
      ]),
    );
    expect(unstorableStrings(`${LONE_HIGH}x`)).toHaveLength(1);
    expect(unstorableStrings(`x${LONE_HIGH}`)).toHaveLength(1);
    expect(unstorableStrings({ n: 1, t: true, z: null, s: "日本語 😀" })).toEqual([]);
  });
});

describe("text Postgres cannot store", () => {
  it("a NUL in a project name is 400, not 500", async () => {
    const key = await newCaller();
    await expectInvalid(
      await v1(key, "/v1/projects", { method: "POST", body: { name: `a${NUL}b` } }),
      "name",
    );
  });

  it("an unpaired surrogate in a description is 400", async () => {
    const key = await newCaller();
    const response = await v1(key, "/v1/projects", {
      method: "POST",
      body: { name: "site", description: `x${LONE_HIGH}` },
    });
    await expectInvalid(response, "description");
  });

  it("a NUL in file content is 400 on create and on PUT; nothing is stored", async () => {
    const key = await newCaller();
    const create = await v1(key, "/v1/projects", {
      method: "POST",
      body: { name: "site", files: { "a.txt": `x${NUL}y` } },
    });
    await expectInvalid(create, "files.a.txt");

    const project = (await (
      await v1(key, "/v1/projects", { method: "POST", body: { name: "s" } })
    ).json()) as {
      id: string;
    };
    const put = await v1(key, `/v1/projects/${project.id}/files/a.txt`, {
      method: "PUT",
      body: { content: `${LONE_LOW}z` },
    });
    await expectInvalid(put, "content");
    expect(await db().select().from(projectFiles).where(eq(projectFiles.projectId, project.id))).toEqual([]);
  });

  it("a NUL in a project rename is 400", async () => {
    const key = await newCaller();
    const project = (await (
      await v1(key, "/v1/projects", { method: "POST", body: { name: "s" } })
    ).json()) as {
      id: string;
    };
    const response = await v1(key, `/v1/projects/${project.id}`, { method: "PATCH", body: { name: NUL } });
    await expectInvalid(response, "name");
  });

  it("a NUL in a key name is 400 and no key is created", async () => {
    const userId = newUserId();
    const response = await asUser(userId, "POST", "/api/keys", {
      name: `ci${NUL}`,
      permissions: ["projects:read"],
    });
    await expectInvalid(response, "name");
    expect(await db().select().from(apiKeys).where(eq(apiKeys.ownerId, userId))).toEqual([]);
  });

  it("emoji and other paired surrogates are stored as sent", async () => {
    const key = await newCaller();
    const response = await v1(key, "/v1/projects", {
      method: "POST",
      body: { name: "😀 site", files: { "😀.md": "𝄞" } },
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ name: "😀 site", files: { "😀.md": "𝄞" } });
  });
});

describe("file names an object cannot hold", () => {
  const protoFiles = () => JSON.parse('{"__proto__": "x", "ok.txt": "y"}') as Record<string, string>;

  it("__proto__ in the files of a new project is 400, not silently dropped", async () => {
    const key = await newCaller();
    const response = await v1(key, "/v1/projects", {
      method: "POST",
      body: { name: "s", files: protoFiles() },
    });
    await expectInvalid(response, "files.__proto__");
  });

  it("PUT of a file named __proto__ is 400", async () => {
    const key = await newCaller();
    const project = (await (
      await v1(key, "/v1/projects", { method: "POST", body: { name: "s" } })
    ).json()) as {
      id: string;
    };
    const response = await v1(key, `/v1/projects/${project.id}/files/__proto__`, {
      method: "PUT",
      body: { content: "x" },
    });
    await expectProblem(response, 400, "invalid_request");
  });

  it("constructor and prototype are ordinary names: kept, read back and exported", async () => {
    const key = await newCaller();
    const files = { constructor: "c", prototype: "p", toString: "t", "src/__proto__.js": "s" };
    const created = await v1(key, "/v1/projects", { method: "POST", body: { name: "s", files } });
    expect(created.status).toBe(201);
    const project = (await created.json()) as { id: string; files: Record<string, string> };
    expect(project.files).toEqual(files);
    const exported = await v1(key, `/v1/projects/${project.id}/export`);
    expect(exported.status).toBe(200);
    const entries = unzipSync(new Uint8Array(await exported.arrayBuffer()));
    expect(Object.keys(entries).sort()).toEqual(Object.keys(files).sort());
  });

  it("a stored __proto__ file (written before the rule) still exports, file by file", async () => {
    const key = await newCaller();
    const project = (await (
      await v1(key, "/v1/projects", { method: "POST", body: { name: "s" } })
    ).json()) as {
      id: string;
    };
    await db()
      .insert(projectFiles)
      .values([
        { projectId: project.id, path: "__proto__", content: "x", size: 1 },
        { projectId: project.id, path: "a.txt", content: "a", size: 1 },
      ]);

    const exported = await v1(key, `/v1/projects/${project.id}/export`);
    expect(exported.status).toBe(200);
    const names: string[] = [];
    unzipSync(new Uint8Array(await exported.arrayBuffer()), {
      filter: (file) => {
        names.push(file.name);
        return false;
      },
    });
    expect(names.sort()).toEqual(["__proto__", "a.txt"]);

    const read = await v1(key, `/v1/projects/${project.id}`);
    expect(read.status).toBe(200);
    const body = JSON.parse(await read.text(), (_name, value) => value) as { files: object };
    expect(Object.getOwnPropertyNames(body.files).sort()).toEqual(["__proto__", "a.txt"]);
  });
});

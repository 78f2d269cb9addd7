import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { ProjectRow } from "../../db/schema";
import type { AppEnv } from "../../http/app-env";
import { ApiError } from "../../http/errors";
import { PageQuerySchema, page, pageOf } from "../../http/pagination";
import { json } from "../../http/schemas";
import { createProject, findProject, listProjects, putFile, updateProject } from "../../projects/repository";
import { filesProblem, isUnholdableName, PROJECT_LIMITS, pathProblem, utf8Bytes } from "../../projects/rules";
import { zipFiles } from "../../projects/zip";
import { findFileSecrets, warningsOf } from "../../scanning/file-secrets";
import {
  keyCheck,
  keyCheckThenBody,
  ownerOf,
  ProjectIdParam,
  projectIdOf,
  refuseScopedCreate,
  scopeOf,
  v1Problems,
  v1Route,
  WarningsSchema,
} from "./common";

const Name = z.string().trim().min(1).max(100);
const Description = z.string().max(2000).nullable();
/**
 * Path → content. Zod (like any object copy) silently drops a `__proto__` member, so it is refused
 * here, on the raw input, before it can vanish.
 */
const Files = z
  .preprocess(
    (value, ctx) => {
      if (value !== null && typeof value === "object") {
        for (const name of Object.keys(value).filter(isUnholdableName)) {
          ctx.addIssue({ code: "custom", message: "must not be __proto__", path: [name], input: value });
        }
      }
      return value;
    },
    z.record(z.string(), z.string()),
  )
  .openapi({ description: "Path → text content" });

const ProjectSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Project");
const ProjectWithFilesSchema = ProjectSchema.extend({ files: Files }).openapi("ProjectWithFiles");

const CreateProjectSchema = z
  .object({ name: Name, description: Description.optional(), files: Files.optional() })
  .strict()
  .openapi("CreateProject");
const UpdateProjectSchema = z
  .object({ name: Name.optional(), description: Description.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "name at least one of name, description")
  .openapi("UpdateProject");
const PutFileSchema = z.object({ content: z.string() }).strict().openapi("PutFile");
const CreatedProjectSchema = ProjectWithFilesSchema.extend({ warnings: WarningsSchema }).openapi(
  "CreatedProject",
);
const WrittenFileSchema = z
  .object({ path: z.string(), size: z.number(), warnings: WarningsSchema })
  .openapi("WrittenFile");
const FileParams = ProjectIdParam.extend({
  path: z.string().openapi({
    param: { name: "path", in: "path" },
    description: "The file path, URL-encoded as one segment",
  }),
});

const tags = ["Public API"];
const routes = {
  list: createRoute({
    ...v1Route,
    tags,
    method: "get",
    path: "/v1/projects",
    summary: "List projects, newest first",
    middleware: keyCheck("projects:read"),
    request: { query: PageQuerySchema },
    responses: { 200: { description: "A page", content: json(pageOf(ProjectSchema)) }, ...v1Problems(400) },
  }),
  get: createRoute({
    ...v1Route,
    tags,
    method: "get",
    path: "/v1/projects/{id}",
    summary: "A project with its files",
    middleware: keyCheck("projects:read"),
    request: { params: ProjectIdParam },
    responses: {
      200: { description: "The project", content: json(ProjectWithFilesSchema) },
      ...v1Problems(404),
    },
  }),
  create: createRoute({
    ...v1Route,
    tags,
    method: "post",
    path: "/v1/projects",
    summary: "Create a project, optionally with files",
    middleware: keyCheckThenBody("projects:write"),
    request: { body: { required: true, content: json(CreateProjectSchema) } },
    responses: {
      201: {
        description: "Created, with warnings about secrets in the files",
        content: json(CreatedProjectSchema),
      },
      ...v1Problems(400, 409, 413, 415),
    },
  }),
  update: createRoute({
    ...v1Route,
    tags,
    method: "patch",
    path: "/v1/projects/{id}",
    summary: "Rename or describe a project",
    middleware: keyCheckThenBody("projects:write"),
    request: { params: ProjectIdParam, body: { required: true, content: json(UpdateProjectSchema) } },
    responses: {
      200: { description: "Updated", content: json(ProjectSchema) },
      ...v1Problems(400, 404, 415),
    },
  }),
  putFile: createRoute({
    ...v1Route,
    tags,
    method: "put",
    path: "/v1/projects/{id}/files/{path}",
    summary: "Create or replace one file",
    middleware: keyCheckThenBody("projects:write"),
    request: { params: FileParams, body: { required: true, content: json(PutFileSchema) } },
    responses: {
      200: { description: "Replaced", content: json(WrittenFileSchema) },
      201: { description: "Created", content: json(WrittenFileSchema) },
      ...v1Problems(400, 404, 413, 415),
    },
  }),
  export: createRoute({
    ...v1Route,
    tags,
    method: "get",
    path: "/v1/projects/{id}/export",
    summary: "Download the project's source as a zip",
    middleware: keyCheck("export:read"),
    request: { params: ProjectIdParam },
    responses: {
      200: {
        description: "A zip of the files",
        content: { "application/zip": { schema: z.string().openapi({ format: "binary" }) } },
      },
      ...v1Problems(404),
    },
  }),
};

const toProject = (row: ProjectRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});
const filesObject = (files: { path: string; content: string }[]) =>
  Object.fromEntries(files.map((f) => [f.path, f.content]));
const notFound = () => new ApiError("not_found", "No such project.");

function checkPaths(paths: string[], prefix: string): void {
  const errors = paths.flatMap((path) => {
    const problem = pathProblem(path);
    return problem ? [{ path: `${prefix}${JSON.stringify(path)}`, message: problem }] : [];
  });
  if (errors.length)
    throw new ApiError("invalid_request", "A file path is not allowed; see errors.", { errors });
}

export function registerV1Projects(app: OpenAPIHono<AppEnv>): void {
  app.openapi(routes.list, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listProjects(c.get("stores").db, ownerOf(c), limit + 1, cursor, scopeOf(c));
    return c.json(page(rows, limit, toProject), 200);
  });

  app.openapi(routes.get, async (c) => {
    const found = await findProject(c.get("stores").db, ownerOf(c), projectIdOf(c, c.req.valid("param").id));
    if (!found) throw notFound();
    return c.json({ ...toProject(found.project), files: filesObject(found.files) }, 200);
  });

  app.openapi(routes.create, async (c) => {
    refuseScopedCreate(c);
    const body = c.req.valid("json");
    const files = body.files ?? {};
    checkPaths(Object.keys(files), "files.");
    const tooLarge = filesProblem(files);
    if (tooLarge) throw new ApiError(tooLarge.code, tooLarge.detail);
    const created = await createProject(c.get("stores").db, ownerOf(c), {
      name: body.name,
      description: body.description ?? null,
      files,
    });
    if (created === "quota_exceeded") {
      throw new ApiError(
        "quota_exceeded",
        `An owner has at most ${PROJECT_LIMITS.projectsPerOwner} projects.`,
      );
    }
    const warnings = warningsOf(await findFileSecrets(c.get("stores").db, created.files));
    return c.json({ ...toProject(created.project), files: filesObject(created.files), warnings }, 201);
  });

  app.openapi(routes.update, async (c) => {
    const id = projectIdOf(c, c.req.valid("param").id);
    const row = await updateProject(c.get("stores").db, ownerOf(c), id, c.req.valid("json"));
    if (!row) throw notFound();
    return c.json(toProject(row), 200);
  });

  app.openapi(routes.putFile, async (c) => {
    const params = c.req.valid("param");
    const id = projectIdOf(c, params.id);
    checkPaths([params.path], "path ");
    const { content } = c.req.valid("json");
    const tooLarge = filesProblem({ [params.path]: content });
    if (tooLarge) throw new ApiError(tooLarge.code, tooLarge.detail);
    const result = await putFile(c.get("stores").db, ownerOf(c), id, { path: params.path, content });
    if (result === "not_found") throw notFound();
    if (result === "too_large") {
      throw new ApiError(
        "payload_too_large",
        `A project holds at most ${PROJECT_LIMITS.files} files and ${PROJECT_LIMITS.projectBytes} bytes.`,
      );
    }
    const warnings = warningsOf(await findFileSecrets(c.get("stores").db, [{ path: params.path, content }]));
    return c.json(
      { path: params.path, size: utf8Bytes(content), warnings },
      result === "created" ? 201 : 200,
    );
  });

  app.openapi(routes.export, async (c) => {
    const found = await findProject(c.get("stores").db, ownerOf(c), projectIdOf(c, c.req.valid("param").id));
    if (!found) throw notFound();
    const filename = `${found.project.name.replace(/[^A-Za-z0-9._-]+/g, "-") || "project"}.zip`;
    return c.body(zipFiles(found.files), 200, {
      "Content-Type": "application/zip",
      "Content-Disposition": `attachment; filename="${filename}"`,
    });
  });
}

import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/app-env";
import { PageQuerySchema, page, pageOf } from "../http/pagination";
import { json, problemResponses } from "../http/schemas";
import { listProjects } from "../projects/repository";

const ProjectSummarySchema = z
  .object({ id: z.uuid(), name: z.string(), createdAt: z.iso.datetime() })
  .openapi("ProjectSummary");

const route = createRoute({
  method: "get",
  path: "/api/projects",
  tags: ["Projects"],
  security: [{ session: [] }],
  summary: "The signed-in user's projects, newest first (for choosing a key's scope)",
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "A page", content: json(pageOf(ProjectSummarySchema)) },
    ...problemResponses(400, 401),
  },
});

export function registerProjectRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listProjects(c.get("stores").db, c.get("session").userId, limit + 1, cursor);
    return c.json(
      page(rows, limit, (row) => ({ id: row.id, name: row.name, createdAt: row.createdAt.toISOString() })),
      200,
    );
  });
}

import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../domain/permissions";
import type { AppEnv } from "../../http/app-env";
import { json } from "../../http/schemas";
import { keyCheck, v1Problems, v1Route } from "./common";

const CallingKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    permissions: z.array(z.enum(PERMISSIONS)),
    rateLimit: z.number().int().openapi({ description: "Requests per minute" }),
    projects: z
      .array(z.uuid())
      .nullable()
      .openapi({ description: "The projects the key may reach; null = every project of its owner" }),
  })
  .openapi("CallingKey");

const route = createRoute({
  ...v1Route,
  tags: ["Public API"],
  method: "get",
  path: "/v1/key",
  summary: "The calling key: id, name, permissions, limit (any valid key)",
  middleware: keyCheck(null),
  responses: { 200: { description: "The calling key", content: json(CallingKeySchema) }, ...v1Problems() },
});

export function registerV1Key(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, (c) => {
    const { id, name, permissions, rateLimit, projects } = c.get("apiKey");
    return c.json(
      { id, name, permissions: [...permissions], rateLimit, projects: projects && [...projects] },
      200,
    );
  });
}

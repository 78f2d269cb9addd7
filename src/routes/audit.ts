import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { AUDIT_ACTIONS } from "../audit/events";
import { listAuditEvents } from "../audit/repository";
import type { AuditEventRow } from "../db/schema";
import type { AppEnv } from "../http/app-env";
import { PageQuerySchema, page, pageOf } from "../http/pagination";
import { problemResponses } from "../http/schemas";

const AuditEventSchema = z
  .object({
    id: z.uuid(),
    action: z.enum(AUDIT_ACTIONS),
    actor: z
      .string()
      .openapi({ description: "The user id, or `system:<caller>` for RPC and automatic actions" }),
    keyId: z.uuid().nullable(),
    provider: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
  })
  .openapi("AuditEvent");

const route = createRoute({
  method: "get",
  path: "/api/audit",
  tags: ["Audit"],
  security: [{ session: [] }],
  summary: "Audit trail of key and provider-key changes, newest first (revoked keys included)",
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "A page", content: { "application/json": { schema: pageOf(AuditEventSchema) } } },
    ...problemResponses(400, 401),
  },
});

function toAuditEvent(row: AuditEventRow): z.infer<typeof AuditEventSchema> {
  const isKeyEvent = row.action.startsWith("key.");
  return {
    id: row.id,
    action: row.action as z.infer<typeof AuditEventSchema>["action"],
    actor: row.actor,
    keyId: isKeyEvent ? row.targetId : null,
    provider: isKeyEvent ? null : row.targetId,
    ip: row.ip,
    userAgent: row.userAgent,
    metadata: row.metadata,
    createdAt: row.createdAt.toISOString(),
  };
}

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listAuditEvents(c.get("stores").db, c.get("session").userId, limit + 1, cursor);
    return c.json(page(rows, limit, toAuditEvent), 200);
  });
}

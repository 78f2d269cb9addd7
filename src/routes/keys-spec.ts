/** Request and response schemas of the dashboard's key routes, and the routes themselves. */
import { createRoute, z } from "@hono/zod-openapi";
import { MAX_KEY_PROJECTS, PERMISSIONS, RATE_LIMIT } from "../domain/permissions";
import { PageQuerySchema, pageOf, UUID } from "../http/pagination";
import { json, problemResponses } from "../http/schemas";
import { KeyRecordSchema } from "../keys/records";

const Name = z.string().trim().min(1).max(64);
const Permissions = z.array(z.enum(PERMISSIONS)).min(1, "must name at least one permission");
const RateLimit = z.number().int().min(RATE_LIMIT.min).max(RATE_LIMIT.max);
const FutureTime = z.iso
  .datetime({ offset: true })
  .refine((v) => Date.parse(v) > Date.now(), "must be in the future");
const Projects = z
  .array(z.string().regex(UUID, "must be a project id"))
  .min(1, "must name at least one project (null = every project)")
  .max(MAX_KEY_PROJECTS)
  .nullable()
  .openapi({ description: "Project ids the key may reach; null = every project of the owner" });

const CreateKeySchema = z
  .object({
    name: Name,
    permissions: Permissions,
    rateLimit: RateLimit.default(RATE_LIMIT.default),
    expiresAt: FutureTime.optional(),
    projects: Projects.default(null),
  })
  .strict()
  .openapi("CreateApiKey");

const UpdateKeySchema = z
  .object({
    name: Name.optional(),
    permissions: Permissions.optional(),
    rateLimit: RateLimit.optional(),
    projects: Projects.optional(),
    expiresAt: FutureTime.nullable().optional().openapi({ description: "null = never expires" }),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine(
    (v) => Object.keys(v).length > 0,
    "name at least one of name, permissions, rateLimit, projects, expiresAt, enabled",
  )
  .openapi("UpdateApiKey");

const KeyListItemSchema = KeyRecordSchema.extend({
  requestsLast24h: z
    .number()
    .int()
    .nullable()
    .openapi({ description: "Requests in the last 24 hours; null when usage cannot be read right now" }),
}).openapi("ApiKeyListItem");

const RollKeySchema = z
  .object({ gracePeriodSeconds: z.number().int().min(0).max(86400).default(0) })
  .strict()
  .openapi("RollApiKey");

const CreatedKeySchema = KeyRecordSchema.extend({
  key: z.string().openapi({ description: "The full key. Returned only in this response." }),
}).openapi("CreatedApiKey");

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }) });
const guarded = { tags: ["API keys"], security: [{ session: [] }] };
const AUTH_ERRORS = [401, 403, 429] as const;

/** The dashboard's key routes as the OpenAPI document describes them. */
export const keyRoutes = {
  create: createRoute({
    ...guarded,
    method: "post",
    path: "/api/keys",
    summary: "Create an API key (the key is returned once)",
    request: { body: { required: true, content: json(CreateKeySchema) } },
    responses: {
      201: { description: "Created", content: json(CreatedKeySchema) },
      ...problemResponses(400, ...AUTH_ERRORS, 409, 413, 415),
    },
  }),
  list: createRoute({
    ...guarded,
    method: "get",
    path: "/api/keys",
    summary: "List active API keys, newest first",
    request: { query: PageQuerySchema },
    responses: {
      200: { description: "A page", content: json(pageOf(KeyListItemSchema)) },
      ...problemResponses(400, 401),
    },
  }),
  get: createRoute({
    ...guarded,
    method: "get",
    path: "/api/keys/{id}",
    summary: "Get an API key (masked)",
    request: { params: IdParam },
    responses: {
      200: { description: "The key", content: json(KeyRecordSchema) },
      ...problemResponses(401, 404),
    },
  }),
  update: createRoute({
    ...guarded,
    method: "patch",
    path: "/api/keys/{id}",
    summary:
      "Change name, permissions, limit, projects, expiry; disable or enable (effective on the next request)",
    request: { params: IdParam, body: { required: true, content: json(UpdateKeySchema) } },
    responses: {
      200: { description: "Updated", content: json(KeyRecordSchema) },
      ...problemResponses(400, ...AUTH_ERRORS, 404, 503),
    },
  }),
  roll: createRoute({
    ...guarded,
    method: "post",
    path: "/api/keys/{id}/roll",
    summary: "Replace the secret; the old one works until the grace period ends",
    request: { params: IdParam, body: { required: false, content: json(RollKeySchema) } },
    responses: {
      200: { description: "Rolled: the new key, returned once", content: json(CreatedKeySchema) },
      ...problemResponses(400, ...AUTH_ERRORS, 404, 503),
    },
  }),
  revoke: createRoute({
    ...guarded,
    method: "delete",
    path: "/api/keys/{id}",
    summary: "Revoke an API key (effective on the next request)",
    request: { params: IdParam },
    responses: { 204: { description: "Revoked" }, ...problemResponses(...AUTH_ERRORS, 404, 503) },
  }),
};

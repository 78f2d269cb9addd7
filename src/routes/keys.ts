import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { actorFromRequest } from "../audit/events";
import { PERMISSIONS, RATE_LIMIT } from "../domain/permissions";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { PageQuerySchema, page, pageOf, UUID } from "../http/pagination";
import { json, problemResponses } from "../http/schemas";
import { REVOKED_MARKER, writeMarkers } from "../keys/marker";
import { KeyRecordSchema, normalisePermissions, toKeyRecord } from "../keys/records";
import {
  findKey,
  insertKey,
  listKeys,
  MAX_ACTIVE_KEYS,
  revokeKey,
  rollKey,
  updateKey,
} from "../keys/repository";
import { generateKey, hashKey, keyStart } from "../keys/token";
import { enforceUserLimit, propagateChange } from "./guards";

const Name = z.string().trim().min(1).max(64);
const Permissions = z.array(z.enum(PERMISSIONS)).min(1, "must name at least one permission");
const RateLimit = z.number().int().min(RATE_LIMIT.min).max(RATE_LIMIT.max);

const CreateKeySchema = z
  .object({
    name: Name,
    permissions: Permissions,
    rateLimit: RateLimit.default(RATE_LIMIT.default),
    expiresAt: z.iso
      .datetime({ offset: true })
      .refine((v) => Date.parse(v) > Date.now(), "must be in the future")
      .optional(),
  })
  .strict()
  .openapi("CreateApiKey");

const UpdateKeySchema = z
  .object({ name: Name.optional(), permissions: Permissions.optional(), rateLimit: RateLimit.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "name at least one of name, permissions, rateLimit")
  .openapi("UpdateApiKey");

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

const routes = {
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
      200: { description: "A page", content: json(pageOf(KeyRecordSchema)) },
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
    summary: "Rename, change permissions or rate limit (effective on the next request)",
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

const notFound = () => new ApiError("not_found", "No such API key.");

/** Another owner's key and a malformed id are answered exactly like a missing key. */
function keyId(id: string): string {
  if (!UUID.test(id)) throw notFound();
  return id.toLowerCase();
}

/** A new secret's hash collided with a stored one: never seen, but a retry is the answer, not a 500. */
const conflict = () => new ApiError("conflict", "The request conflicts with the current state; retry it.");

const actor = (c: Context<AppEnv>) => actorFromRequest(c.get("session").userId, c.req.raw.headers);

async function newSecret() {
  const key = generateKey();
  return { key, hash: await hashKey(key), start: keyStart(key) };
}

export function registerKeyRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(routes.create, async (c) => {
    await enforceUserLimit(c, "key-writes");
    const body = c.req.valid("json");
    const ownerId = c.get("session").userId;
    const { db, redis } = c.get("stores");
    const secret = await newSecret();
    const row = await insertKey(
      db,
      {
        ownerId,
        name: body.name,
        permissions: normalisePermissions(body.permissions),
        rateLimit: body.rateLimit,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
        hash: secret.hash,
        start: secret.start,
      },
      actor(c),
    );
    if (row === "limit_reached") {
      throw new ApiError("key_limit_reached", `At most ${MAX_ACTIVE_KEYS} active keys; revoke one first.`);
    }
    if (row === "conflict") throw conflict();
    // Best effort: the key must reach its owner even if Redis is down; a missing marker is re-set on first use.
    await writeMarkers(redis, new Map([[row.id, row.version]]), c.get("logger"));
    c.header("Cache-Control", "no-store");
    return c.json({ ...toKeyRecord(row), key: secret.key }, 201);
  });

  app.openapi(routes.list, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listKeys(c.get("stores").db, c.get("session").userId, limit + 1, cursor);
    return c.json(page(rows, limit, toKeyRecord), 200);
  });

  app.openapi(routes.get, async (c) => {
    const row = await findKey(c.get("stores").db, c.get("session").userId, keyId(c.req.valid("param").id));
    if (!row) throw notFound();
    return c.json(toKeyRecord(row), 200);
  });

  app.openapi(routes.update, async (c) => {
    const id = keyId(c.req.valid("param").id);
    await enforceUserLimit(c, "key-writes");
    const body = c.req.valid("json");
    const changes = { ...body, permissions: body.permissions && normalisePermissions(body.permissions) };
    const row = await updateKey(c.get("stores").db, c.get("session").userId, id, changes, actor(c));
    if (!row) throw notFound();
    await propagateChange(c, new Map([[row.id, row.version]]));
    return c.json(toKeyRecord(row), 200);
  });

  app.openapi(routes.roll, async (c) => {
    const id = keyId(c.req.valid("param").id);
    await enforceUserLimit(c, "key-writes");
    const grace =
      (c.req.valid("json") as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds ?? 0;
    const secret = await newSecret();
    const row = await rollKey(c.get("stores").db, c.get("session").userId, id, secret, grace, actor(c));
    if (!row) throw notFound();
    if (row === "conflict") throw conflict();
    await propagateChange(c, new Map([[row.id, row.version]]));
    c.header("Cache-Control", "no-store");
    return c.json({ ...toKeyRecord(row), key: secret.key }, 200);
  });

  app.openapi(routes.revoke, async (c) => {
    const id = keyId(c.req.valid("param").id);
    await enforceUserLimit(c, "key-writes");
    const row = await revokeKey(c.get("stores").db, c.get("session").userId, id, actor(c));
    if (!row) throw notFound();
    await propagateChange(c, new Map([[row.id, REVOKED_MARKER]]));
    return c.body(null, 204);
  });
}

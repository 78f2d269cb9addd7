import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { actorFromRequest } from "../audit/events";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { page, UUID } from "../http/pagination";
import { finishChange } from "../keys/marker";
import { normalisePermissions, toKeyRecord } from "../keys/records";
import {
  findKey,
  findOwnedKey,
  insertKey,
  type KeyChanges,
  listKeys,
  MAX_ACTIVE_KEYS,
  revokeKey,
  rollKey,
  updateKey,
} from "../keys/repository";
import { generateKey, hashKey, keyStart } from "../keys/token";
import { HOUR_MS } from "../keys/usage";
import { totals, usageOverHours } from "../keys/usage-read";
import { ownedProjectIds } from "../projects/repository";
import { changeKeysOrFail, effectsOfRows, enforceUserLimit } from "./guards";
import { keyRoutes } from "./keys-spec";

const notFound = () => new ApiError("not_found", "No such API key.");

/** Another owner's key and a malformed id are answered exactly like a missing key. */
function keyId(id: string): string {
  if (!UUID.test(id)) throw notFound();
  return id.toLowerCase();
}

const expiredRoll = () =>
  new ApiError(
    "conflict",
    "The key has expired; rolling it would hand out an expired secret. Create a new key.",
  );

/** A new secret's hash collided with a stored one: never seen, but a retry is the answer, not a 500. */
const conflict = () => new ApiError("conflict", "The request conflicts with the current state; retry it.");

/** Every id must be a project of the owner; the scope is stored as a set, in canonical form. */
async function ownedScope(c: Context<AppEnv>, ids: string[] | null): Promise<string[] | null> {
  if (ids === null) return null;
  const scope = [...new Set(ids.map((id) => id.toLowerCase()))].sort();
  const owned = await ownedProjectIds(c.get("stores").db, c.get("session").userId, scope);
  const errors = scope.flatMap((id) =>
    owned.has(id) ? [] : [{ path: "projects", message: `${id} is not one of your projects` }],
  );
  if (errors.length)
    throw new ApiError("invalid_request", "A project in the scope is not yours; see errors.", { errors });
  return scope;
}

/** Requests in the last 24 h of each key (null for all when Redis cannot be read). */
async function requestsLast24h(c: Context<AppEnv>, keyIds: string[]): Promise<Map<string, number> | null> {
  const now = Date.now();
  const to = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS;
  const { db, redis } = c.get("stores");
  const series = await usageOverHours(db, redis, keyIds, to - 24 * HOUR_MS, to, c.get("logger"), now);
  if (!series.complete) return null;
  return new Map([...totals(series)].map(([id, t]) => [id, t.ok + t.denied + t.limited]));
}

const actor = (c: Context<AppEnv>) => actorFromRequest(c.get("session").userId, c.req.raw.headers);

async function newSecret() {
  const key = generateKey();
  return { key, hash: await hashKey(key), start: keyStart(key) };
}

export function registerKeyRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(keyRoutes.create, async (c) => {
    await enforceUserLimit(c, "key-writes");
    const body = c.req.valid("json");
    const ownerId = c.get("session").userId;
    const { db } = c.get("stores");
    const secret = await newSecret();
    const row = await insertKey(
      db,
      {
        ownerId,
        name: body.name,
        permissions: normalisePermissions(body.permissions),
        rateLimit: body.rateLimit,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
        projects: await ownedScope(c, body.projects),
        hash: secret.hash,
        start: secret.start,
      },
      actor(c),
    );
    if (row === "limit_reached") {
      throw new ApiError("key_limit_reached", `At most ${MAX_ACTIVE_KEYS} active keys; revoke one first.`);
    }
    if (row === "conflict") throw conflict();
    // Best effort: the key must reach its owner even if Redis is down; a missing marker is re-set on
    // first use, a missing index entry by the Cron Trigger. No `changing` step: nothing cached it yet.
    await finishChange(c.get("stores"), effectsOfRows([row]), [], c.get("logger"));
    c.header("Cache-Control", "no-store");
    return c.json({ ...toKeyRecord(row), key: secret.key }, 201);
  });

  app.openapi(keyRoutes.list, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listKeys(c.get("stores").db, c.get("session").userId, limit + 1, cursor);
    const listed = page(rows, limit, (row) => toKeyRecord(row));
    const usage = await requestsLast24h(
      c,
      listed.data.map((k) => k.id),
    );
    const data = listed.data.map((k) => ({ ...k, requestsLast24h: usage ? (usage.get(k.id) ?? 0) : null }));
    return c.json({ ...listed, data }, 200);
  });

  app.openapi(keyRoutes.get, async (c) => {
    const row = await findKey(c.get("stores").db, c.get("session").userId, keyId(c.req.valid("param").id));
    if (!row) throw notFound();
    return c.json(toKeyRecord(row), 200);
  });

  app.openapi(keyRoutes.update, async (c) => {
    const id = keyId(c.req.valid("param").id);
    await enforceUserLimit(c, "key-writes");
    const body = c.req.valid("json");
    const changes: KeyChanges = {
      ...body,
      permissions: body.permissions && normalisePermissions(body.permissions),
      projects: body.projects === undefined ? undefined : await ownedScope(c, body.projects),
      expiresAt:
        body.expiresAt === undefined || body.expiresAt === null ? body.expiresAt : new Date(body.expiresAt),
    };
    const { db } = c.get("stores");
    const ownerId = c.get("session").userId;
    if (!(await findKey(db, ownerId, id))) throw notFound();
    const row = await changeKeysOrFail(
      c,
      [id],
      () => updateKey(db, ownerId, id, changes, actor(c)),
      (updated) => effectsOfRows([updated]),
    );
    if (!row) throw notFound();
    return c.json(toKeyRecord(row), 200);
  });

  app.openapi(keyRoutes.roll, async (c) => {
    const id = keyId(c.req.valid("param").id);
    await enforceUserLimit(c, "key-writes");
    const grace =
      (c.req.valid("json") as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds ?? 0;
    const { db } = c.get("stores");
    const ownerId = c.get("session").userId;
    const current = await findKey(db, ownerId, id);
    if (!current) throw notFound();
    if (current.expiresAt && current.expiresAt.getTime() <= Date.now()) throw expiredRoll();
    const secret = await newSecret();
    const row = await changeKeysOrFail(
      c,
      [id],
      () => rollKey(db, ownerId, id, secret, grace, actor(c)),
      (rolled) => effectsOfRows([typeof rolled === "object" ? rolled : undefined]),
    );
    if (row === "conflict") throw conflict();
    if (!row) throw notFound();
    // Expired between the check and the commit: the database did not roll it.
    if (row.hash !== secret.hash) throw expiredRoll();
    c.header("Cache-Control", "no-store");
    return c.json({ ...toKeyRecord(row), key: secret.key }, 200);
  });

  app.openapi(keyRoutes.revoke, async (c) => {
    const id = keyId(c.req.valid("param").id);
    await enforceUserLimit(c, "key-writes");
    const { db } = c.get("stores");
    const ownerId = c.get("session").userId;
    // Repeating a DELETE of a revoked key re-writes its marker: that heals a lost marker write.
    if (!(await findOwnedKey(db, ownerId, id))) throw notFound();
    const row = await changeKeysOrFail(
      c,
      [id],
      () => revokeKey(db, ownerId, id, actor(c)),
      (revoked) => effectsOfRows([revoked]),
    );
    if (!row) throw notFound();
    return c.body(null, 204);
  });
}

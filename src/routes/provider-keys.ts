import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { actorFromRequest } from "../audit/events";
import { PROVIDER_KEY_STATUSES, PROVIDERS, type Provider } from "../domain/providers";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { json, problemResponses } from "../http/schemas";
import { isProvider } from "../providers/registry";
import { checkSaveInput, providerCards, removeProviderKey, saveProviderKey } from "../providers/service";
import { enforceUserLimit } from "./guards";

const ProviderCardSchema = z
  .object({
    provider: z.enum(PROVIDERS),
    label: z.string(),
    configured: z.boolean(),
    hint: z.string().nullable().openapi({ description: "Last 4 characters of the key" }),
    baseUrl: z.string().nullable(),
    status: z.enum(PROVIDER_KEY_STATUSES).nullable().openapi({
      description:
        "`valid` (Active), `rejected` (the provider refused the stored key: save it again), `needs_reentry` (the stored key can no longer be read); null when not configured",
    }),
    validatedAt: z.iso.datetime().nullable().openapi({ description: "When the key was last saved" }),
    rejectedAt: z.iso
      .datetime()
      .nullable()
      .openapi({ description: "When the provider refused the stored key; null unless `rejected`" }),
    lastCheckedAt: z.iso.datetime().nullable().openapi({
      description:
        "When the provider last gave a clear answer about the key (save, weekly re-check, rejection)",
    }),
    acceptsBaseUrl: z.boolean(),
    requiresKey: z.boolean(),
  })
  .openapi("ProviderKeyCard");

const SaveSchema = z
  .object({
    apiKey: z
      .string()
      .max(1024)
      .regex(/^[\x21-\x7e]*$/, "must be printable ASCII without spaces")
      .optional(),
    baseUrl: z.string().max(2048).optional(),
  })
  .strict()
  .openapi("SaveProviderKey");

const ProviderParam = z.object({
  provider: z.string().openapi({ param: { name: "provider", in: "path" }, enum: [...PROVIDERS] }),
});
const guarded = { tags: ["Provider keys"], security: [{ session: [] }] };

const routes = {
  list: createRoute({
    ...guarded,
    method: "get",
    path: "/api/provider-keys",
    summary: "The ten provider cards: configured or not, hint, URL, status",
    responses: {
      200: { description: "All providers", content: json(z.object({ data: z.array(ProviderCardSchema) })) },
      ...problemResponses(401),
    },
  }),
  save: createRoute({
    ...guarded,
    method: "put",
    path: "/api/provider-keys/{provider}",
    summary: "Validate with the provider, then seal and store (nothing changes unless accepted)",
    request: { params: ProviderParam, body: { required: true, content: json(SaveSchema) } },
    responses: {
      200: { description: "Saved", content: json(ProviderCardSchema) },
      ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 502),
    },
  }),
  remove: createRoute({
    ...guarded,
    method: "delete",
    path: "/api/provider-keys/{provider}",
    summary: "Remove the stored key",
    request: { params: ProviderParam },
    responses: {
      204: { description: "Removed (or was not configured)" },
      ...problemResponses(401, 403, 404),
    },
  }),
};

function providerParam(value: string): Provider {
  if (!isProvider(value)) throw new ApiError("not_found", "No such provider.");
  return value;
}

const actor = (c: Context<AppEnv>) => actorFromRequest(c.get("session").userId, c.req.raw.headers);

export function registerProviderKeyRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(routes.list, async (c) => {
    const data = await providerCards(c.get("stores").db, c.get("config"), c.get("session").userId);
    return c.json({ data }, 200);
  });

  app.openapi(routes.save, async (c) => {
    const config = c.get("config");
    const checked = checkSaveInput(providerParam(c.req.valid("param").provider), c.req.valid("json"), config);
    if (!checked.ok) {
      const errors = [{ path: checked.field, message: checked.message }];
      throw new ApiError(checked.code, checked.detail, { errors });
    }
    // Counted before the provider is asked: a save must not become a key-testing oracle.
    await enforceUserLimit(c, "provider-key-saves");
    const userId = c.get("session").userId;
    const saved = await saveProviderKey(c.get("stores").db, config, userId, checked.input, actor(c));
    if (!saved.ok) throw new ApiError(saved.code, saved.detail);
    return c.json(saved.card, 200);
  });

  app.openapi(routes.remove, async (c) => {
    const provider = providerParam(c.req.valid("param").provider);
    await enforceUserLimit(c, "key-writes");
    await removeProviderKey(c.get("stores").db, c.get("session").userId, provider, actor(c));
    return c.body(null, 204);
  });
}

import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { UUID } from "../http/pagination";
import { json, problemResponses } from "../http/schemas";
import { findOwnedKey } from "../keys/repository";
import { HOUR_MS, type UsageCounts, zeroCounts } from "../keys/usage";
import { usageOverHours } from "../keys/usage-read";

/** Each window: how many buckets of which size, the newest one holding now. */
const WINDOWS = {
  "24h": { bucket: "hour", size: HOUR_MS, count: 24 },
  "7d": { bucket: "day", size: 24 * HOUR_MS, count: 7 },
  "30d": { bucket: "day", size: 24 * HOUR_MS, count: 30 },
} as const;
const Window = z.enum(Object.keys(WINDOWS) as [keyof typeof WINDOWS, ...(keyof typeof WINDOWS)[]]);

const Counts = { ok: z.number().int(), denied: z.number().int(), limited: z.number().int() };
const UsageSchema = z
  .object({
    window: Window,
    bucket: z.enum(["hour", "day"]).openapi({ description: "UTC hours, or UTC days" }),
    buckets: z.array(z.object({ start: z.iso.datetime(), ...Counts })),
    totals: z.object(Counts),
    complete: z
      .boolean()
      .openapi({ description: "false when the most recent hours could not be read (they count as 0)" }),
  })
  .openapi("ApiKeyUsage");

const route = createRoute({
  method: "get",
  path: "/api/keys/{id}/usage",
  tags: ["API keys"],
  security: [{ session: [] }],
  summary: "Requests of one key by outcome: ok, denied (401/403), limited (429)",
  request: {
    params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }) }),
    query: z.object({ window: Window.default("24h") }),
  },
  responses: {
    200: { description: "Usage buckets, oldest first", content: json(UsageSchema) },
    ...problemResponses(400, 401, 404),
  },
});

const add = (into: UsageCounts, counts: UsageCounts) => {
  into.ok += counts.ok;
  into.denied += counts.denied;
  into.limited += counts.limited;
};

export function registerKeyUsageRoute(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const { window } = c.req.valid("query");
    const { db, redis } = c.get("stores");
    const key = UUID.test(id) ? await findOwnedKey(db, c.get("session").userId, id.toLowerCase()) : undefined;
    if (!key) throw new ApiError("not_found", "No such API key.");
    const spec = WINDOWS[window];
    const now = Date.now();
    const end = Math.floor(now / spec.size) * spec.size + spec.size;
    const start = end - spec.count * spec.size;
    const series = await usageOverHours(db, redis, [key.id], start, end, c.get("logger"), now);
    const buckets = Array.from({ length: spec.count }, (_, i) => ({
      startMs: start + i * spec.size,
      ...zeroCounts(),
    }));
    const sum = zeroCounts();
    for (const [hourMs, counts] of series.byKey.get(key.id) ?? []) {
      const bucket = buckets[Math.floor((hourMs - start) / spec.size)];
      if (!bucket) continue;
      add(bucket, counts);
      add(sum, counts);
    }
    return c.json(
      {
        window,
        bucket: spec.bucket,
        buckets: buckets.map(({ startMs, ...counts }) => ({
          start: new Date(startMs).toISOString(),
          ...counts,
        })),
        totals: sum,
        complete: series.complete,
      },
      200,
    );
  });
}

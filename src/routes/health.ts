import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { problemResponses } from "../http/schemas";

const CheckSchema = z.object({ ok: z.boolean(), ms: z.number() });
const HealthSchema = z
  .object({
    status: z.literal("ok"),
    checks: z.object({
      postgres: CheckSchema,
      redis: CheckSchema,
      /** Leased topology: the database of the region that checks this request's keys. */
      regionRedis: CheckSchema.extend({ region: z.string() }).optional(),
    }),
  })
  .openapi("Health");

const route = createRoute({
  method: "get",
  path: "/health",
  tags: ["Service"],
  summary: "Liveness of the service and its stores",
  description:
    "Queries Postgres and Redis through the same clients the API uses — under the leased topology also the database of the region that checks this request's keys (`regionRedis`). 503 names what failed.",
  responses: {
    200: { description: "Both stores answer", content: { "application/json": { schema: HealthSchema } } },
    ...problemResponses(503),
  },
});

async function timed(check: () => Promise<unknown>): Promise<{ ok: boolean; ms: number; error?: unknown }> {
  const started = Date.now();
  try {
    await check();
    return { ok: true, ms: Date.now() - started };
  } catch (error) {
    return { ok: false, ms: Date.now() - started, error };
  }
}

export function registerHealth(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const stores = c.get("stores");
    const region = stores.region;
    const [postgres, redis, regional] = await Promise.all([
      timed(() => stores.db.execute(sql`select 1`)),
      timed(() => stores.redis.ping()),
      region.home ? undefined : timed(() => stores.checkRedis.ping()),
    ]);
    const checks = {
      postgres: { ok: postgres.ok, ms: postgres.ms },
      redis: { ok: redis.ok, ms: redis.ms },
      ...(regional ? { regionRedis: { ok: regional.ok, ms: regional.ms, region: region.name } } : {}),
    };
    const failed = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    if (failed.length > 0) {
      c.get("logger").log("error", "health_failed", {
        postgres: postgres.error,
        redis: redis.error,
        regionRedis: regional?.error,
      });
      throw new ApiError("service_unavailable", `Unavailable: ${failed.join(", ")}.`, {
        extensions: { checks },
      });
    }
    return c.json({ status: "ok" as const, checks }, 200);
  });
}

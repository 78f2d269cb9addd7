import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/app-env";
import { ApiError } from "../../http/errors";
import { BODY_LIMITS, jsonBodyRules } from "../../http/middleware";
import { json, problemResponses } from "../../http/schemas";
import { admitLeakReport } from "../../limits/leak-report-limit";
import { handleLeakReport, PUBLIC_REPORT_ACTOR } from "../../scanning/handle-report";

/** At most this many keys per public report. */
export const MAX_KEYS_PER_PUBLIC_REPORT = 100;

const PublicLeakReportSchema = z
  .object({
    keys: z
      .array(z.string().min(1).max(256))
      .min(1)
      .max(MAX_KEYS_PER_PUBLIC_REPORT)
      .openapi({ description: "Strings found in public that look like VULK API keys (`vk_sk_…`)" }),
  })
  .strict()
  .openapi("PublicLeakReport");

const ReceivedSchema = z
  .object({ received: z.number().int().openapi({ description: "How many strings the report held" }) })
  .openapi("LeakReportReceived");

const route = createRoute({
  method: "post",
  path: "/v1/leaks",
  tags: ["Secret scanning"],
  summary: "Report leaked VULK API keys: every live one is revoked at once",
  description:
    "No authentication; limited per client address. The answer is always 202 with the count received " +
    "and never says which strings were keys (docs/DESIGN.md#public-leak-reports).",
  security: [],
  middleware: [jsonBodyRules(BODY_LIMITS.v1)],
  request: { body: { required: true, content: json(PublicLeakReportSchema) } },
  responses: {
    202: { description: "Received", content: json(ReceivedSchema) },
    ...problemResponses(400, 413, 415, 429, 503),
  },
});

export function registerV1Leaks(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { keys } = c.req.valid("json");
    const { db, redis } = c.get("stores");
    const logger = c.get("logger");
    const admission = await admitLeakReport(c.req.header("CF-Connecting-IP"), {
      redis,
      logger,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
    });
    if (admission === "unavailable") throw new ApiError("service_unavailable", "Try again later.");
    c.set("rate", [admission.rate]);
    if (!admission.ok) throw new ApiError("rate_limited", "Too many leak reports; try again later.");
    const report = keys.map((token) => ({ token, type: "vulk_api_key", url: null, source: null }));
    const outcome = await handleLeakReport(
      report,
      { db, redis, regionalRedis: c.get("stores").regionalRedis, logger, events: c.env.EVENTS_QUEUE },
      {
        reporter: "public",
        actor: PUBLIC_REPORT_ACTOR,
      },
    );
    // Nothing was revoked; the reporter may send the report again.
    if (outcome === "unavailable") throw new ApiError("service_unavailable", "Try again later.");
    return c.json({ received: keys.length }, 202);
  });
}

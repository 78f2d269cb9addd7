import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/errors";
import { BODY_LIMITS, jsonBodyRules } from "../http/middleware";
import { problemResponses } from "../http/schemas";
import { assertStorable, fieldErrors } from "../http/validation";
import { githubKeyring } from "../scanning/github-keys";
import { handleLeakReport } from "../scanning/handle-report";
import { FeedbackSchema, type LeakReport, LeakReportSchema } from "../scanning/report";
import { checkReportSignature, IDENTIFIER_HEADER, SIGNATURE_HEADER } from "../scanning/signature";

const headerParameter = (name: string, description: string) => ({
  name,
  in: "header" as const,
  required: true,
  description,
  schema: { type: "string" as const },
});

const route = createRoute({
  method: "post",
  path: "/scanning/github",
  tags: ["Secret scanning"],
  summary: "GitHub secret-scanning report: leaked keys are revoked at once",
  description:
    "Called by GitHub's secret scanning partner programme, authenticated by GitHub's signature (no key, " +
    "no session). Live leaked keys are revoked; a leaked previous secret of a rolled key stops working.",
  security: [],
  // GitHub batches reports: 1 MiB holds thousands of tokens with their URLs.
  middleware: [jsonBodyRules(BODY_LIMITS.scanningReport)],
  parameters: [
    headerParameter(IDENTIFIER_HEADER, "Which of GitHub's published keys signed the report"),
    headerParameter(SIGNATURE_HEADER, "Base64 DER ECDSA P-256 / SHA-256 signature of the raw body"),
  ],
  request: {
    // A reference, not the schema: the body is parsed only after its signature is verified (below).
    body: {
      required: true,
      content: { "application/json": { schema: { $ref: "#/components/schemas/SecretScanningReport" } } },
    },
  },
  responses: {
    200: {
      description: "Feedback for GitHub, one entry per reported token",
      content: { "application/json": { schema: FeedbackSchema } },
    },
    ...problemResponses(400, 401, 413, 415, 503),
  },
});

/** JSON of the signed body; 400 `invalid_request` when it is not a report or holds unstorable text. */
function parseReport(body: Uint8Array): LeakReport {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw new ApiError("invalid_request", "The body is not valid JSON.");
  }
  const parsed = LeakReportSchema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError("invalid_request", "The report is not valid; see errors.", {
      errors: fieldErrors(parsed.error.issues),
    });
  }
  assertStorable(parsed.data);
  return parsed.data;
}

export function registerScanningRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.register("SecretScanningReport", LeakReportSchema);

  app.openapi(route, async (c) => {
    const logger = c.get("logger");
    const body = new Uint8Array(await c.req.arrayBuffer());
    const signature = await checkReportSignature(
      { identifier: c.req.header(IDENTIFIER_HEADER), signature: c.req.header(SIGNATURE_HEADER), body },
      githubKeyring(c.get("config").githubScanningKeysUrl),
      Date.now(),
      logger,
    );
    if (signature === "rejected")
      throw new ApiError("invalid_signature", "The report is not signed by GitHub.");
    if (signature === "keys_unavailable") {
      throw new ApiError("service_unavailable", "GitHub's signing keys are unavailable; try again later.");
    }
    const report = parseReport(body);
    const { db, redis, regionalRedis } = c.get("stores");
    const feedback = await handleLeakReport(report, {
      db,
      redis,
      regionalRedis,
      logger,
      events: c.env.EVENTS_QUEUE,
    });
    // Nothing was revoked; GitHub re-delivers a report that got a 5xx.
    if (feedback === "unavailable") throw new ApiError("service_unavailable", "Try again later.");
    return c.json(feedback, 200);
  });
}

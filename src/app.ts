import type { OpenAPIHono } from "@hono/zod-openapi";
import { dashboardCors, requireSession } from "./auth/session-middleware";
import type { AppEnv } from "./http/app-env";
import { onError, onNotFound } from "./http/error-handler";
import { jsonBodyRules, requestContext } from "./http/middleware";
import { createRouter } from "./http/router";
import { registerAuditRoutes } from "./routes/audit";
import { registerDevSession } from "./routes/dev-session";
import { registerDocs } from "./routes/docs";
import { registerHealth } from "./routes/health";
import { registerKeyRoutes } from "./routes/keys";

/** The whole HTTP surface, registered in one flat block. */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = createRouter();
  app.use("*", requestContext());
  app.use("/api/*", dashboardCors(), requireSession(), jsonBodyRules());

  registerHealth(app);
  registerDocs(app);
  registerDevSession(app);
  registerKeyRoutes(app);
  registerAuditRoutes(app);

  app.notFound(onNotFound);
  app.onError(onError);
  return app;
}

export const app = createApp();

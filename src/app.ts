import type { OpenAPIHono } from "@hono/zod-openapi";
import { dashboardCors, requireSession } from "./auth/session-middleware";
import type { AppEnv } from "./http/app-env";
import { notFoundHandler, onError } from "./http/error-handler";
import { BODY_LIMITS, jsonBodyRules, requestContext } from "./http/middleware";
import { createRouter } from "./http/router";
import { registerAuditRoutes } from "./routes/audit";
import { registerDevSession } from "./routes/dev-session";
import { registerDocs } from "./routes/docs";
import { registerHealth } from "./routes/health";
import { registerKeyUsageRoute } from "./routes/key-usage";
import { registerKeyRoutes } from "./routes/keys";
import { registerProjectRoutes } from "./routes/projects";
import { registerProviderKeyRoutes } from "./routes/provider-keys";
import { registerScanningRoutes } from "./routes/scanning";
import { registerSettingsPage } from "./routes/settings-page";
import { registerV1Deployments } from "./routes/v1/deployments";
import { registerV1Key } from "./routes/v1/key";
import { registerV1Leaks } from "./routes/v1/leaks";
import { registerV1Projects } from "./routes/v1/projects";
import { v1Surface } from "./verify/middleware";

/** The whole HTTP surface, registered in one flat block. */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = createRouter();
  app.use("*", requestContext());
  app.use("/api/*", dashboardCors(), requireSession(), jsonBodyRules(BODY_LIMITS.api));
  app.use("/v1/*", v1Surface());

  registerHealth(app);
  registerDocs(app);
  registerSettingsPage(app);
  registerDevSession(app);
  registerKeyRoutes(app);
  registerKeyUsageRoute(app);
  registerProjectRoutes(app);
  registerProviderKeyRoutes(app);
  registerAuditRoutes(app);
  registerScanningRoutes(app);
  registerV1Key(app);
  registerV1Projects(app);
  registerV1Deployments(app);
  registerV1Leaks(app);

  app.notFound(notFoundHandler(() => app.routes));
  app.onError(onError);
  return app;
}

export const app = createApp();

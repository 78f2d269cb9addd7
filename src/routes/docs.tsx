import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { devSignInAllowed } from "./dev-session";

const DOCUMENT_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "vulk-keys",
    version: "1.0.0",
    description:
      "API keys and permissions for VULK. `/v1/*` takes a public API key (`Authorization: Bearer vk_sk_…`); " +
      "`/api/*` takes the dashboard session. Errors are RFC 9457 problem+json.",
  },
};

type Operation = { summary?: string; tags?: string[] };
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** Paths that answer only where development sign-in is allowed (docs/DESIGN.md#sessions-and-browser-access). */
const DEVELOPMENT_PATHS = ["/dev/session"];

/**
 * `/openapi.json` (OpenAPI 3.1) and `/docs`, a plain page listing every operation — each listing
 * only what answers for this request: `/dev/session` only in development on a loopback host.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "A public API key, `vk_sk_…`",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The dashboard session JWT (or the `vulk_session` cookie)",
  });
  const documentFor = (c: Context<AppEnv>) => {
    const document = app.getOpenAPI31Document(DOCUMENT_CONFIG);
    if (!devSignInAllowed(c.get("config"), c.req.url)) {
      for (const path of DEVELOPMENT_PATHS) delete document.paths?.[path];
    }
    return document;
  };
  app.get("/openapi.json", (c) => c.json(documentFor(c)));

  app.get("/docs", (c) => {
    const document = documentFor(c);
    const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
      METHODS.flatMap((method) => {
        const operation = (item as Record<string, Operation | undefined>)[method];
        return operation ? [{ path, method, operation }] : [];
      }),
    );
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    return c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>vulk-keys API reference</title>
          <style>{`body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code{font-family:ui-monospace,monospace}td{padding:.25rem .75rem;vertical-align:top}
.m{font-weight:600;text-transform:uppercase}`}</style>
        </head>
        <body>
          <h1>vulk-keys API reference</h1>
          <p>
            {DOCUMENT_CONFIG.info.description} The machine-readable document is{" "}
            <a href="/openapi.json">/openapi.json</a>.
          </p>
          <table>
            <tbody>
              {operations.map(({ path, method, operation }) => (
                <tr>
                  <td class="m">{method}</td>
                  <td>
                    <code>{path}</code>
                  </td>
                  <td>{operation.summary ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </body>
      </html>,
    );
  });
}

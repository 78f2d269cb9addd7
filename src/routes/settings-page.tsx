import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { html } from "hono/html";
import { verifySession } from "../auth/session";
import { SESSION_COOKIE } from "../auth/session-middleware";
import type { AppEnv } from "../http/app-env";
import ACTIVITY_SCRIPT from "../ui/client/activity.js";
import DOM_SCRIPT from "../ui/client/dom.js";
import FORMS_SCRIPT from "../ui/client/forms.js";
import PROVIDERS_SCRIPT from "../ui/client/providers.js";
import SETTINGS_SCRIPT from "../ui/client/settings.js";
import USAGE_CHART_SCRIPT from "../ui/client/usage-chart.js";
import { SETTINGS_ASSETS, SettingsShell } from "../ui/settings-shell";
import { SETTINGS_STYLES } from "../ui/settings-styles";
import { devSignInAllowed } from "./dev-session";

/**
 * The page's scripts (src/ui/client/): the entry `app.js` and the modules it imports, each by a path
 * relative to it (`./dom.js` → /settings/api-keys/dom.js).
 */
const SCRIPTS: Record<string, string> = {
  [SETTINGS_ASSETS.script]: SETTINGS_SCRIPT,
  "/settings/api-keys/dom.js": DOM_SCRIPT,
  "/settings/api-keys/activity.js": ACTIVITY_SCRIPT,
  "/settings/api-keys/forms.js": FORMS_SCRIPT,
  "/settings/api-keys/providers.js": PROVIDERS_SCRIPT,
  "/settings/api-keys/usage-chart.js": USAGE_CHART_SCRIPT,
};

/** No inline script or style anywhere: the page loads only its own two assets and talks only to this origin. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

function setPageHeaders(c: Context<AppEnv>): void {
  c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  c.header("Cache-Control", "no-store");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "no-referrer");
}

async function hasValidSession(c: Context<AppEnv>): Promise<boolean> {
  const token = getCookie(c, SESSION_COOKIE);
  return token ? (await verifySession(token, c.get("config").sessionSecrets)).ok : false;
}

/**
 * Settings > API Keys: a server-rendered shell plus a small client script and stylesheet. The shell
 * needs no session; its data comes from /api with the `vulk_session` cookie (same origin, so the
 * CSRF rule passes on the Origin header).
 */
export function registerSettingsPage(app: OpenAPIHono<AppEnv>): void {
  app.get("/settings/api-keys", async (c) => {
    const config = c.get("config");
    setPageHeaders(c);
    const shell = (
      <SettingsShell
        signedIn={await hasValidSession(c)}
        // Same rule as /dev/session: the dev sign-in is offered only where it would work.
        devSignIn={devSignInAllowed(config, c.req.url)}
        dashboardOrigin={config.dashboardOrigin}
      />
    );
    return c.html(html`<!doctype html>${shell}`);
  });

  // The browser scripts' source text (Text modules: wrangler.toml [[rules]]), served as written.
  for (const [path, source] of Object.entries(SCRIPTS)) {
    app.get(path, (c) => {
      setPageHeaders(c);
      return c.body(source, 200, { "Content-Type": "text/javascript; charset=utf-8" });
    });
  }

  app.get(SETTINGS_ASSETS.styles, (c) => {
    setPageHeaders(c);
    return c.body(SETTINGS_STYLES, 200, { "Content-Type": "text/css; charset=utf-8" });
  });
}

/**
 * Settings > API Keys in a real browser (Chromium), against the Worker served by wrangler's dev
 * server on 127.0.0.1 over this run's Postgres and Redis, with the model providers faked on
 * loopback: a signed-out visitor in production, then one dev user's journey (steps build on each other).
 * Every assertion on what the page shows waits for it (`eventually`, or a locator's `waitFor`): the
 * page changes after its handlers and requests have run, not when an action resolves.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium, type PageComplaints, recordComplaints } from "./chromium";
import { eventually } from "./eventually";
import { type LocalApp, startLocalApp } from "./local-app";
import "../support/test-stack";

const SCREENSHOT = "docs/settings-page.png";
/** The page's scripts: the entry, and the modules it imports from beside it. */
const CLIENT_SOURCES = {
  "/settings/api-keys/app.js": "src/ui/client/settings.js",
  "/settings/api-keys/activity.js": "src/ui/client/activity.js",
  "/settings/api-keys/dom.js": "src/ui/client/dom.js",
  "/settings/api-keys/forms.js": "src/ui/client/forms.js",
  "/settings/api-keys/providers.js": "src/ui/client/providers.js",
  "/settings/api-keys/usage-chart.js": "src/ui/client/usage-chart.js",
};
const GOOD_PROVIDER_KEY = "sk-good-browser-test-9f3c";
const BAD_PROVIDER_KEY = "sk-bad-browser-test-0000";

let app: LocalApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let complaints: PageComplaints;
/** The full key, read from the page the one time it is shown. */
let fullKey = "";

const settingsUrl = () => `${app.origin}/settings/api-keys`;

function callV1(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${app.origin}${path}`, {
    method,
    headers: { Authorization: `Bearer ${fullKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

type StoredCard = { provider: string; configured: boolean; hint: string | null };

/** What the API really stored, asked from Node with the browser's session. */
async function providerCardsFromApi(): Promise<StoredCard[]> {
  const session = (await context.cookies()).find((cookie) => cookie.name === "vulk_session");
  const response = await fetch(`${app.origin}/api/provider-keys`, {
    headers: { Authorization: `Bearer ${session?.value}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: StoredCard[] }).data;
}

beforeAll(async () => {
  app = await startLocalApp(inject("stack"));
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  complaints = await recordComplaints(context);
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe("in production, signed out", () => {
  let production: LocalApp;
  beforeAll(async () => {
    production = await startLocalApp(inject("stack"), { environment: "production" });
  }, 120_000);
  afterAll(() => production?.stop());

  it("points to the dashboard and offers no dev sign-in", async () => {
    const visitor = await context.newPage();
    await visitor.goto(`${production.origin}/settings/api-keys`);
    await visitor.getByText("Sign in from the VULK dashboard to manage your API keys.").waitFor();
    const dashboard = visitor.getByRole("link", { name: "VULK dashboard" });
    await eventually(() => dashboard.getAttribute("href")).toBe("http://localhost:5173");
    await eventually(() => visitor.getByRole("button", { name: "Sign in as a dev user" }).count()).toBe(0);
    await visitor.locator("#signed-in").waitFor({ state: "hidden" });
    await visitor.close();

    const devSession = await fetch(`${production.origin}/dev/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId: "someone" }),
    });
    expect(devSession.status).toBe(404);
  });
});

describe("Settings > API Keys in Chromium, signed in as a dev user", () => {
  it("serves the shell with strict headers and signs in with the dev button", async () => {
    const response = await page.goto(settingsUrl());
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    const csp = headers["content-security-policy"] ?? "";
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain("unsafe-inline");
    expect(headers["cache-control"]).toBe("no-store");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("no-referrer");

    // Each script is the repository's file byte for byte (no build step), under the same headers.
    for (const [path, file] of Object.entries(CLIENT_SOURCES)) {
      const script = await fetch(`${app.origin}${path}`);
      expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(script.headers.get("content-security-policy")).toBe(csp);
      expect(script.headers.get("cache-control")).toBe("no-store");
      expect(await script.text()).toBe(readFileSync(file, "utf8"));
    }

    await page.getByLabel("User id").fill(`browser_${randomUUID()}`);
    await page.getByRole("button", { name: "Sign in as a dev user" }).click();
    await page.getByText("No API keys yet.").waitFor();
  });

  it("creates a key with projects:read only and shows the full key once", async () => {
    await page.getByRole("button", { name: "Create API Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create API Key" });
    const permission = dialog.getByLabel("projects:read List and view projects");

    // Mistakes are reported next to the control that caused them.
    await dialog.getByRole("button", { name: "Create key" }).click();
    await eventually(() => page.locator("#key-name-error").textContent()).toBe("Give the key a name.");
    await eventually(() => page.locator("#key-permissions-error").textContent()).toBe(
      "Choose at least one permission.",
    );

    await dialog.getByLabel("Name", { exact: true }).fill("CI reader");
    await permission.check();
    await eventually(() => dialog.getByLabel(/Rate limit/).inputValue()).toBe("60");
    await dialog.getByRole("button", { name: "Create key" }).click();

    await page.getByText("This key is shown only once").waitFor();
    const shown = page.getByLabel("API key", { exact: true });
    await eventually(() => shown.inputValue()).toMatch(/^vk_sk_[0-9A-Za-z]{38}$/);
    fullKey = await shown.inputValue();
    await page.getByRole("button", { name: "Done" }).click();
    // The dialog's `close` event (which clears the field) comes after the click has resolved.
    await eventually(() => shown.inputValue()).toBe("");

    const row = page.locator("#keys-body tr", { hasText: "CI reader" });
    await eventually(() => row.textContent()).toContain(`${fullKey.slice(0, 10)}...`);
    await eventually(() => row.locator(".chip").allTextContents()).toEqual(["projects:read"]);
  });

  it("after a reload only the masked form is in the page", async () => {
    await page.reload();
    await page.locator("#keys-body tr", { hasText: "CI reader" }).waitFor();
    // Once the masked form is in, the rest of the page is final: the absences are checked on that page.
    await eventually(() => page.content()).toContain(`${fullKey.slice(0, 10)}...`);
    const html = await page.content();
    expect(html).not.toContain(fullKey);
    expect(html).not.toContain(fullKey.slice(10));
  });

  it("the key works for what it may do and is refused the rest", async () => {
    expect((await callV1("GET", "/v1/projects")).status).toBe(200);
    const refused = await callV1("POST", "/v1/projects", { name: "Not allowed" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe("missing_permission");
  });

  it("deleting it in the page, by keyboard through the in-page confirm, revokes it", async () => {
    await page.getByRole("button", { name: "Delete CI reader" }).focus();
    await page.keyboard.press("Enter");
    const confirm = page.getByRole("alertdialog", { name: "Delete API key?" });
    await confirm.waitFor();
    await eventually(() => page.evaluate("document.activeElement.textContent.trim()")).toBe("Cancel");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await confirm.waitFor({ state: "hidden" });
    await page.getByText("No API keys yet.").waitFor();

    const after = await callV1("GET", "/v1/projects");
    expect(after.status).toBe(401);
  });

  it("saves a provider key the provider accepts and refuses one it rejects", async () => {
    await page.locator("#providers article").nth(9).waitFor();
    await eventually(() => page.locator("#providers h3").allTextContents()).toHaveLength(10);

    const openai = page.locator("#provider-openai");
    await eventually(() => openai.locator(".badge").textContent()).toBe("Not configured");
    // Record whether the card showed its busy state while the provider was asked.
    await page.evaluate(`new MutationObserver(() => {
      if (document.querySelector("#provider-openai-form[aria-busy=true]")) window.__sawBusy = true;
    }).observe(document.getElementById("provider-openai"), { attributes: true, subtree: true })`);
    await openai.getByLabel("API key").fill(GOOD_PROVIDER_KEY);
    await openai.getByRole("button", { name: "Save" }).click();
    await openai.getByText("Saved. Key ending in 9f3c.").waitFor();
    await eventually(() => page.evaluate("window.__sawBusy === true")).toBe(true);
    await eventually(() => openai.locator(".badge").textContent()).toBe("Active");
    await eventually(() => openai.getByLabel("API key").inputValue()).toBe("");

    const groq = page.locator("#provider-groq");
    await groq.getByLabel("API key").fill(BAD_PROVIDER_KEY);
    await groq.getByRole("button", { name: "Save" }).click();
    const refusal = page.locator("#provider-groq-key-error");
    await refusal.waitFor();
    // The refusal in plain words, and never the provider's body (which echoes the key).
    await eventually(async () => ((await refusal.textContent()) ?? "").length).toBeGreaterThan(0);
    expect(await refusal.textContent()).not.toContain(BAD_PROVIDER_KEY);
    await eventually(() => groq.getByLabel("API key").getAttribute("aria-invalid")).toBe("true");
    await eventually(() => groq.locator(".badge").textContent()).toBe("Not configured");

    const stored = await providerCardsFromApi();
    expect(stored.find((card) => card.provider === "openai")).toMatchObject({
      configured: true,
      hint: "9f3c",
    });
    expect(stored.find((card) => card.provider === "groq")).toMatchObject({ configured: false, hint: null });

    await page.reload();
    await page.locator("#provider-openai .badge", { hasText: "Active" }).waitFor();
    await eventually(() => page.content()).toContain("Key ending in 9f3c");
    expect(await page.content()).not.toContain(GOOD_PROVIDER_KEY);
  });

  it("reads at phone width without sideways scrolling", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.getByRole("button", { name: "Create API Key" }).waitFor();
    await eventually(() => page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("never logged an error or a CSP violation; a screenshot of the page", async () => {
    // A key for the picture; the dialog is closed first, so only the masked form is on screen.
    await page.getByRole("button", { name: "Create API Key" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Deploy bot");
    await page.getByLabel("projects:read List and view projects").check();
    await page.getByLabel("deploy:write Deploy projects to live URLs").check();
    await page.getByLabel(/Rate limit/).fill("120");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator("#keys-body tr", { hasText: "Deploy bot" }).waitFor();
    await page.locator("#create-dialog").waitFor({ state: "hidden" });
    await eventually(() => page.getByLabel("API key", { exact: true }).inputValue()).toBe("");
    // The committed screenshot is rewritten only on request (dates and key prefixes differ every run).
    const update = !existsSync(SCREENSHOT) || process.env.UPDATE_SCREENSHOT === "1";
    const png = await page.screenshot({ path: update ? SCREENSHOT : undefined, fullPage: true });
    expect(png.length).toBeGreaterThan(10_000);

    // The only console errors allowed are Chromium's notes on the answers the test provoked.
    const unexpected = complaints.consoleErrors.filter(
      ({ text, url }) => !(text.includes("status of 422") && url.endsWith("/api/provider-keys/groq")),
    );
    expect(unexpected).toEqual([]);
    expect(complaints.uncaught).toEqual([]);
    expect(complaints.cspViolations).toEqual([]);
  });
});

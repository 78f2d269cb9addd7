/**
 * What every Settings-page browser test starts from: the Worker under wrangler dev, a fresh Chromium
 * context (UTC) recording console errors and CSP violations, a page signed in as a new dev user —
 * and that user's API (the page's session cookie as a Bearer token) and `/v1` beside it.
 */
import { randomUUID } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect, inject } from "vitest";
import { launchChromium, type PageComplaints, recordComplaints } from "./chromium";
import { type LocalApp, startLocalApp } from "./local-app";

export interface SignedInPage {
  app: LocalApp;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  complaints: PageComplaints;
  /** The dev user the page signed in as. */
  userId: string;
  /** The management API as this browser's user. */
  asPageUser(method: string, path: string, body?: unknown): Promise<Response>;
  createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }>;
  callV1(key: string | null, method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function openSignedInPage(): Promise<SignedInPage> {
  const app = await startLocalApp(inject("stack"));
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "UTC" });
  const complaints = await recordComplaints(context);
  const page = await context.newPage();
  await page.goto(`${app.origin}/settings/api-keys`);
  const userId = `browser_${randomUUID()}`;
  await page.getByLabel("User id").fill(userId);
  await page.getByRole("button", { name: "Sign in as a dev user" }).click();
  await page.getByText("No API keys yet.").waitFor();

  const json = (body: unknown) => (body === undefined ? undefined : JSON.stringify(body));
  async function asPageUser(method: string, path: string, body?: unknown): Promise<Response> {
    const session = (await context.cookies()).find((cookie) => cookie.name === "vulk_session");
    return fetch(`${app.origin}${path}`, {
      method,
      headers: { Authorization: `Bearer ${session?.value}`, "Content-Type": "application/json" },
      body: json(body),
    });
  }
  return {
    app,
    browser,
    context,
    page,
    complaints,
    userId,
    asPageUser,
    async createKey(body) {
      const response = await asPageUser("POST", "/api/keys", body);
      expect(response.status).toBe(201);
      return (await response.json()) as { id: string; key: string };
    },
    callV1(key, method, path, body) {
      const headers: Record<string, string> = {};
      if (key) headers.Authorization = `Bearer ${key}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return fetch(`${app.origin}${path}`, { method, headers, body: json(body) });
    },
    async close() {
      await browser.close();
      await app.stop();
    },
  };
}

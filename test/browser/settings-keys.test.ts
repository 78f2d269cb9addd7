/**
 * Settings > API Keys in Chromium: managing a key after it exists (issue 13, item 5) — its project
 * scope, an edit of its name, permissions, limit and expiry, disabling and enabling it, and its usage
 * over the last 24 hours. One dev user's journey against the Worker under wrangler's dev server; the
 * steps build on each other. What the page shows is read only through auto-waiting reads (`eventually`,
 * a locator's `waitFor`); what was stored is asked from the API with the browser's session.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageComplaints } from "./chromium";
import { eventually } from "./eventually";
import { openSignedInPage, type SignedInPage } from "./signed-in";
import "../support/test-stack";

/** Written only on request: `UPDATE_SCREENSHOT=1` (the picture differs every run). */
const SCREENSHOT = "docs/settings-api-keys.png";
const DAY_MS = 86_400_000;

let signedIn: SignedInPage;
let page: Page;
let complaints: PageComplaints;
const asPageUser: SignedInPage["asPageUser"] = (...args) => signedIn.asPageUser(...args);
const createKey: SignedInPage["createKey"] = (...args) => signedIn.createKey(...args);
const callV1: SignedInPage["callV1"] = (...args) => signedIn.callV1(...args);
/** Project name → id, created for this user before the page is used. */
const projects = new Map<string, string>();
/** The full key whose usage is read (and, for the screenshot, added to). */
let probeKey = "";

interface StoredKey {
  id: string;
  name: string;
  permissions: string[];
  rateLimit: number;
  projects: string[] | null;
  enabled: boolean;
  expiresAt: string | null;
}

async function storedKey(name: string): Promise<StoredKey> {
  const response = await asPageUser("GET", "/api/keys?limit=100");
  expect(response.status).toBe(200);
  const key = ((await response.json()) as { data: StoredKey[] }).data.find((k) => k.name === name);
  if (!key) throw new Error(`no key named ${name}`);
  return key;
}

/** The page's row of a key (not its usage panel, which names the key too). */
const keyRow = (name: string) =>
  page.locator("#keys-body tr.key-row", { has: page.getByText(name, { exact: true }) });
const badges = (name: string) => keyRow(name).locator(".badge").allTextContents();
/** `2026-12-04T10:30`: the value of a datetime-local input for a time, in the context's zone (UTC). */
const localInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);

beforeAll(async () => {
  signedIn = await openSignedInPage();
  ({ page, complaints } = signedIn);

  // Three projects to choose from, made through the public API by a key that is gone again.
  const seeder = await createKey({ name: "Project seeder", permissions: ["projects:write"] });
  for (const name of ["Alpha site", "Beta shop", "Gamma blog"]) {
    const created = await callV1(seeder.key, "POST", "/v1/projects", { name });
    expect(created.status).toBe(201);
    projects.set(name, ((await created.json()) as { id: string }).id);
  }
  expect((await asPageUser("DELETE", `/api/keys/${seeder.id}`)).status).toBe(204);
}, 120_000);

afterAll(async () => {
  await signedIn?.close();
});

describe("managing API keys in Settings > API Keys", () => {
  it("creates a key for two chosen projects: the API stores exactly those", async () => {
    await page.getByRole("button", { name: "Create API Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create API Key" });
    await dialog.getByLabel("Name", { exact: true }).fill("Deploy bot");
    await dialog.getByLabel("projects:read List and view projects").check();
    await eventually(() => dialog.getByLabel("All projects").isChecked()).toBe(true);

    // A subset with nothing in it is a mistake, said next to the projects.
    await dialog.getByLabel("Only the projects chosen below").check();
    await dialog.getByRole("button", { name: "Create key" }).click();
    await eventually(() => page.locator("#key-projects-error").textContent()).toBe(
      "Choose at least one project, or All projects.",
    );

    await dialog.getByLabel("Alpha site").check();
    await dialog.getByLabel("Gamma blog").check();
    await dialog.getByRole("button", { name: "Create key" }).click();
    await page.getByText("This key is shown only once").waitFor();
    await page.getByRole("button", { name: "Done" }).click();

    await eventually(() => keyRow("Deploy bot").locator(".projects-cell").textContent()).toMatch(
      /^(Alpha site, Gamma blog|Gamma blog, Alpha site)$/,
    );
    const stored = await storedKey("Deploy bot");
    expect(stored.projects).toEqual([projects.get("Alpha site"), projects.get("Gamma blog")].sort());
  });

  it("edits name, permissions, rate limit and expiry, sending only what changed", async () => {
    await page.getByRole("button", { name: "Edit Deploy bot" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit Deploy bot" });
    const name = dialog.getByLabel("Name", { exact: true });
    await eventually(() => name.inputValue()).toBe("Deploy bot");
    await eventually(() => dialog.getByLabel("Alpha site").isChecked()).toBe(true);
    await eventually(() => dialog.getByLabel("Beta shop").isChecked()).toBe(false);

    // A time in the past is refused before any request, next to the expiry.
    const expires = dialog.getByLabel(/^Expires/);
    await expires.fill(localInput(Date.now() - DAY_MS));
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await eventually(() => page.locator("#key-expires-error").textContent()).toBe(
      "Choose a time in the future, or Never expires.",
    );
    await eventually(() => expires.getAttribute("aria-invalid")).toBe("true");

    const expiresAt = localInput(Date.now() + 3 * DAY_MS);
    await name.fill("Deploy bot v2");
    await dialog.getByLabel("deploy:write Deploy projects to live URLs").check();
    await dialog.getByLabel(/Rate limit/).fill("120");
    await expires.fill(expiresAt);
    const patch = page.waitForRequest((request) => request.method() === "PATCH");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    const sent = (await patch).postDataJSON() as Record<string, unknown>;
    expect(sent).toEqual({
      name: "Deploy bot v2",
      permissions: ["projects:read", "deploy:write"],
      rateLimit: 120,
      expiresAt: `${expiresAt}:00.000Z`,
    });

    await dialog.waitFor({ state: "hidden" });
    const row = keyRow("Deploy bot v2");
    await eventually(() => row.locator(".chip").allTextContents()).toEqual(["projects:read", "deploy:write"]);
    await eventually(() => row.textContent()).toContain("120 / min");
    await eventually(() => badges("Deploy bot v2")).toEqual(["Expires soon"]);
    expect(await storedKey("Deploy bot v2")).toMatchObject({
      permissions: ["projects:read", "deploy:write"],
      rateLimit: 120,
      expiresAt: `${expiresAt}:00.000Z`,
      projects: [projects.get("Alpha site"), projects.get("Gamma blog")].sort(),
    });

    // Clearing the expiry: the key never expires again, and the PATCH names only that.
    await page.getByRole("button", { name: "Edit Deploy bot v2" }).click();
    const again = page.getByRole("dialog", { name: "Edit Deploy bot v2" });
    await eventually(() => again.getByLabel(/^Expires/).inputValue()).toBe(expiresAt);
    await again.getByRole("button", { name: "Never expires" }).click();
    await eventually(() => again.getByLabel(/^Expires/).inputValue()).toBe("");
    const clear = page.waitForRequest((request) => request.method() === "PATCH");
    await again.getByRole("button", { name: "Save changes" }).click();
    expect((await clear).postDataJSON()).toEqual({ expiresAt: null });
    await again.waitFor({ state: "hidden" });
    await eventually(() => badges("Deploy bot v2")).toEqual([]);
    expect((await storedKey("Deploy bot v2")).expiresAt).toBeNull();
  });

  it("disables a key (the row says Disabled, the key is refused), then enables it again", async () => {
    const { key } = await createKey({ name: "Switchable", permissions: ["projects:read"] });
    await page.reload();
    await page.getByRole("button", { name: "Disable Switchable" }).click();
    await eventually(() => badges("Switchable")).toEqual(["Disabled"]);
    await page.getByRole("button", { name: "Enable Switchable" }).waitFor();
    expect((await storedKey("Switchable")).enabled).toBe(false);
    const refused = await callV1(key, "GET", "/v1/key");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { code: string }).code).toBe("key_disabled");

    await page.getByRole("button", { name: "Enable Switchable" }).click();
    await eventually(() => badges("Switchable")).toEqual([]);
    await page.getByRole("button", { name: "Disable Switchable" }).waitFor();
    expect((await callV1(key, "GET", "/v1/key")).status).toBe(200);
  });

  it("shows a key's last 24 hours: 3 ok and 1 denied, in the bars, the totals and the table", async () => {
    probeKey = (await createKey({ name: "Usage probe", permissions: ["projects:read"], rateLimit: 10 })).key;
    for (let i = 0; i < 3; i++) expect((await callV1(probeKey, "GET", "/v1/projects")).status).toBe(200);
    const denied = await callV1(probeKey, "POST", "/v1/projects", { name: "Not allowed" });
    expect(denied.status).toBe(403);

    // When Redis cannot be read in time the API says so (requestsLast24h: null, complete: false) and the
    // page shows it ("Unavailable", a warning); it is asked again on a fresh page load. Each read below
    // waits for what a load renders once: the row, and the panel's totals, which appear only with the answer.
    const toggle = page.getByRole("button", { name: "Usage of Usage probe" });
    const panel = page.getByRole("region", { name: "Usage of Usage probe" });
    await eventually(async () => {
      await page.reload();
      const inRow = await keyRow("Usage probe").locator(".requests-24h").textContent();
      await toggle.click();
      return [inRow, await panel.locator(".usage-totals").textContent()];
    }).toEqual(["4 requests", "4 requests: 3 ok, 1 denied, 0 limited"]);
    await eventually(() => toggle.getAttribute("aria-expanded")).toBe("true");

    // 24 bars, each named by its hour and its three counts; together they hold every request.
    const bars = panel.getByRole("img");
    await eventually(() => bars.count()).toBe(24);
    const names = await bars.evaluateAll((nodes) =>
      nodes.map((node) => node.getAttribute("aria-label") ?? ""),
    );
    for (const name of names) expect(name).toMatch(/^\d\d:00 — \d+ ok, \d+ denied, \d+ limited$/);
    const sum = (outcome: string) =>
      names.reduce((total, name) => total + Number(new RegExp(`(\\d+) ${outcome}`).exec(name)?.[1]), 0);
    expect([sum("ok"), sum("denied"), sum("limited")]).toEqual([3, 1, 0]);
    await eventually(() => panel.locator(".legend li").allTextContents()).toEqual([
      "ok (2xx and other answers)",
      "denied (401 or 403)",
      "limited (429)",
    ]);

    // The text alternative: every hour in a table, with the totals in its footer.
    await panel.getByText("Show as table").click();
    const table = panel.getByRole("table", { name: "Requests per hour of Usage probe, last 24 hours" });
    await eventually(() => table.locator("tbody tr").count()).toBe(24);
    await eventually(() => table.locator("tfoot td").allTextContents()).toEqual(["3", "1", "0"]);
    const columnSum = async (column: number) =>
      (await table.locator(`tbody td:nth-of-type(${column})`).allTextContents()).reduce(
        (a, b) => a + Number(b),
        0,
      );
    expect([await columnSum(1), await columnSum(2), await columnSum(3)]).toEqual([3, 1, 0]);
  });

  it("never logged an error or a CSP violation; fits a phone; a screenshot on request", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.getByRole("region", { name: "Usage of Usage probe" }).waitFor();
    await eventually(() => page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await page.setViewportSize({ width: 1280, height: 900 });

    if (process.env.UPDATE_SCREENSHOT === "1") {
      // More traffic on the probe, up to its limit (10 a minute) and past it: the picture shows all three fills.
      await callV1(probeKey, "POST", "/v1/projects", { name: "x" });
      for (let i = 0; i < 5; i++) await callV1(probeKey, "GET", "/v1/projects");
      for (let i = 0; i < 2; i++) await callV1(probeKey, "GET", "/v1/projects");
      await page.reload();
      await page.getByRole("button", { name: "Usage of Usage probe" }).click();
      const panel = page.getByRole("region", { name: "Usage of Usage probe" });
      await eventually(() => panel.getByRole("img").count()).toBe(24);
      // The keys panel only: the provider cards are pictured in docs/settings-page.png.
      const png = await page.locator("#api-keys").screenshot({ path: SCREENSHOT });
      expect(png.length).toBeGreaterThan(10_000);
    }

    expect(complaints.consoleErrors).toEqual([]);
    expect(complaints.uncaught).toEqual([]);
    expect(complaints.cspViolations).toEqual([]);
  });
});

/**
 * Settings > API Keys in Chromium: the Activity list (issue 15, item 4) — the owner's recent security
 * events from the audit trail, newest first, as sentences. One dev user produces a blocked deployment,
 * a disable and a public leak report, then reads them back on the page. Page state is read only through
 * auto-waiting reads (`eventually`, a locator's `waitFor`).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageComplaints } from "./chromium";
import { eventually } from "./eventually";
import { openSignedInPage, type SignedInPage } from "./signed-in";
import "../support/test-stack";

let signedIn: SignedInPage;
let page: Page;
let complaints: PageComplaints;
const _asPageUser: SignedInPage["asPageUser"] = (...args) => signedIn.asPageUser(...args);
const createKey: SignedInPage["createKey"] = (...args) => signedIn.createKey(...args);
const callV1: SignedInPage["callV1"] = (...args) => signedIn.callV1(...args);
/** The full key that leaks: it must never appear on the page. */
let leakedKey = "";

const activity = () => page.locator("#activity-list .activity-text").allTextContents();

beforeAll(async () => {
  signedIn = await openSignedInPage();
  ({ page, complaints } = signedIn);
}, 120_000);

afterAll(async () => {
  await signedIn?.close();
});

describe("the Activity list in Settings > API Keys", () => {
  it("starts empty for a new user", async () => {
    await page.locator("#activity-empty").waitFor();
    expect(await activity()).toEqual([]);
  });

  it("a blocked deployment, a disable and a public leak report read as sentences, newest first", async () => {
    // A key that commits itself: its own project's config holds it, so deploying is refused.
    const ci = await createKey({
      name: "CI reader",
      permissions: ["projects:read", "projects:write", "deploy:write"],
    });
    leakedKey = ci.key;
    const created = await callV1(ci.key, "POST", "/v1/projects", {
      name: "Landing page",
      files: {
        "src/config.js": `// settings\nexport const api = "https://vulk.dev";\nexport const key = "${ci.key}";\n`,
      },
    });
    expect(created.status).toBe(201);
    const projectId = ((await created.json()) as { id: string }).id;
    const blocked = await callV1(ci.key, "POST", `/v1/projects/${projectId}/deployments`);
    expect(blocked.status).toBe(422);

    await createKey({ name: "Switchable", permissions: ["projects:read"] });
    await page.reload();
    await page.getByRole("button", { name: "Disable Switchable" }).click();
    await page.getByRole("button", { name: "Enable Switchable" }).waitFor();

    // Anyone may hand in a key found in public: it is revoked at once (and leaves the key list).
    const report = await callV1(null, "POST", "/v1/leaks", { keys: [ci.key] });
    expect(report.status).toBe(202);
    await page.reload();

    await eventually(activity).toEqual([
      "Key CI reader was revoked: someone reported finding it in public",
      "Key Switchable was disabled",
      "Key Switchable was created",
      "A deployment of Landing page was blocked: 1 secret in its files (src/config.js line 3)",
      "Key CI reader was created",
    ]);
    await eventually(() => page.locator("#keys-body").textContent()).not.toContain("CI reader");
  });

  it("stamps every event with a machine-readable time, newest first, and never shows a secret", async () => {
    await eventually(() => page.locator("#activity-list time").count()).toBe(5);
    const stamps = await page
      .locator("#activity-list time")
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("datetime") ?? ""));
    expect(stamps).toHaveLength(5);
    for (const stamp of stamps) expect(Number.isNaN(Date.parse(stamp))).toBe(false);
    expect([...stamps].sort().reverse()).toEqual(stamps);
    expect(await page.locator("#activity-list li").first().getAttribute("data-action")).toBe("key.leaked");
    expect(await page.content()).not.toContain(leakedKey);
    expect(await page.locator("#activity").textContent()).not.toContain("vk_sk_");
  });

  it("never logged an error or a CSP violation; fits a phone", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.locator("#activity-list li").first().waitFor();
    await eventually(() => page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    expect(complaints.consoleErrors).toEqual([]);
    expect(complaints.uncaught).toEqual([]);
    expect(complaints.cspViolations).toEqual([]);
  });
});

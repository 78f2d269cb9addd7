/**
 * Settings > provider keys in Chromium: each card tells the truth about its key (issue 16, item 4)
 * — Active with its hint and last check, Rejected by the provider on a date (found by the weekly
 * re-check, run here through the Cron Trigger) with one line on what to do, Needs re-entry — and a
 * new save makes it Active again. Reads only through auto-waiting reads; what was stored is asked
 * from the API with the browser's session.
 */
import pg from "pg";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PageComplaints } from "./chromium";
import { eventually } from "./eventually";
import { openSignedInPage, type SignedInPage } from "./signed-in";
import "../support/test-stack";

const DAY_MS = 86_400_000;
const OPENAI_KEY = `sk-good-health-${Date.now().toString(36)}-openai-a1b2`;
const MISTRAL_KEY = `sk-good-health-${Date.now().toString(36)}-mistral-m9n8`;

let signedIn: SignedInPage;
let page: Page;
let complaints: PageComplaints;

interface StoredCard {
  provider: string;
  status: string | null;
  rejectedAt: string | null;
  lastCheckedAt: string | null;
}

async function storedCard(provider: string): Promise<StoredCard> {
  const response = await signedIn.asPageUser("GET", "/api/provider-keys");
  expect(response.status).toBe(200);
  const { data } = (await response.json()) as { data: StoredCard[] };
  return data.find((card) => card.provider === provider) as StoredCard;
}

/** The test run's Postgres, for what no user can do from the page: age a key, spoil an envelope. */
async function sql(text: string, values: unknown[]): Promise<void> {
  const client = new pg.Client({ connectionString: inject("stack").databaseUrl });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

const card = (provider: string): Locator => page.locator(`#provider-${provider}`);
const badgeOf = (provider: string) => card(provider).locator(".badge").textContent();

async function saveFromPage(provider: string, key: string, hint: string): Promise<void> {
  await card(provider).getByLabel("API key").fill(key);
  await card(provider).getByRole("button", { name: "Save" }).click();
  await card(provider).getByText(`Saved. Key ending in ${hint}.`).waitFor();
}

beforeAll(async () => {
  signedIn = await openSignedInPage();
  ({ page, complaints } = signedIn);
  await page.locator("#providers article").nth(9).waitFor();
}, 120_000);

afterAll(async () => {
  await signedIn?.close();
});

describe("provider cards show the health of their keys", () => {
  it("a saved key is Active, with its hint and when it was last checked", async () => {
    await saveFromPage("openai", OPENAI_KEY, "a1b2");
    await saveFromPage("mistral", MISTRAL_KEY, "m9n8");
    await eventually(() => badgeOf("openai")).toBe("Active");
    const stored = await storedCard("openai");
    expect(stored).toMatchObject({ status: "valid", rejectedAt: null, lastCheckedAt: expect.any(String) });
    await page.reload();
    await eventually(() => badgeOf("openai")).toBe("Active");
    const note = card("openai").locator(".card-note");
    await eventually(() => note.textContent()).toContain("Key ending in a1b2");
    await eventually(() => note.textContent()).toContain("last checked");
    await eventually(() => card("openai").locator(".card-alert").isHidden()).toBe(true);
  });

  it("a key the provider revoked is Rejected on a date after the re-check, with what to do", async () => {
    // Revoked in the provider's console a while ago; last asked about 8 days ago.
    await fetch(`${inject("stack").fakeProvidersUrl}/__fake/revoke`, { method: "POST", body: OPENAI_KEY });
    const then = new Date(Date.now() - 8 * DAY_MS);
    await sql(
      "update provider_keys set check_attempted_at = $2, last_checked_at = $2 where owner_id = $1 and provider = 'openai'",
      [signedIn.userId, then],
    );
    const cron = await fetch(`${signedIn.app.origin}/__scheduled`);
    expect(cron.status).toBe(200);
    await eventually(async () => (await storedCard("openai")).status).toBe("rejected");
    const { rejectedAt } = await storedCard("openai");

    await page.reload();
    await eventually(() => badgeOf("openai")).toBe("Rejected");
    const alert = card("openai").locator(".card-alert");
    const day = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" }).format(
      new Date(rejectedAt as string),
    );
    await eventually(() => alert.textContent()).toContain(`Rejected by OpenAI on ${day}`);
    await eventually(() => alert.textContent()).toContain("Save the key again");
    await eventually(() => card("openai").locator(".card-note").textContent()).toContain(
      "Key ending in a1b2",
    );
    // The other provider's key was not due: still Active.
    await eventually(() => badgeOf("mistral")).toBe("Active");
    // And the owner's Activity says so, newest first.
    await eventually(() => page.locator("#activity-list .activity-text").first().textContent()).toBe(
      "OpenAI stopped accepting your key at the weekly check: save it again in Provider keys",
    );
  });

  it("a key that no longer opens Needs re-entry", async () => {
    await sql(
      "update provider_keys set ciphertext = 'v1.AAAA.AAAA' where owner_id = $1 and provider = 'mistral'",
      [signedIn.userId],
    );
    await page.reload();
    await eventually(() => badgeOf("mistral")).toBe("Needs re-entry");
    await eventually(() => card("mistral").locator(".card-alert").textContent()).toContain("Enter it again");
  });

  it("saving a new key makes a rejected card Active again", async () => {
    await saveFromPage("openai", `sk-good-health-${Date.now().toString(36)}-fresh-f0f0`, "f0f0");
    await eventually(() => badgeOf("openai")).toBe("Active");
    await eventually(() => card("openai").locator(".card-alert").isHidden()).toBe(true);
    expect(await storedCard("openai")).toMatchObject({ status: "valid", rejectedAt: null });
    await page.reload();
    await eventually(() => badgeOf("openai")).toBe("Active");
  });

  it("never logged an error or a CSP violation", () => {
    expect(complaints.consoleErrors).toEqual([]);
    expect(complaints.uncaught).toEqual([]);
    expect(complaints.cspViolations).toEqual([]);
  });
});

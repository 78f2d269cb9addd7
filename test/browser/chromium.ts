/** Debian's Chromium driven by playwright-core, and a record of everything a page complains about. */
import { type Browser, type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh browser (playwright gives it a fresh temporary profile). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

export interface ConsoleError {
  text: string;
  url: string;
}

export interface PageComplaints {
  consoleErrors: ConsoleError[];
  uncaught: string[];
  cspViolations: string[];
}

/**
 * Collects console errors, uncaught exceptions and CSP violations from every page of `context`.
 * The violation listener is injected through the DevTools protocol, which CSP does not govern.
 */
export async function recordComplaints(context: BrowserContext): Promise<PageComplaints> {
  const complaints: PageComplaints = { consoleErrors: [], uncaught: [], cspViolations: [] };
  await context.exposeBinding("__reportCspViolation", (_source, text: string) => {
    complaints.cspViolations.push(text);
  });
  await context.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (e) =>
      window.__reportCspViolation(e.violatedDirective + " blocked " + e.blockedURI));`,
  });
  context.on("console", (message) => {
    if (message.type() === "error")
      complaints.consoleErrors.push({ text: message.text(), url: message.location().url });
  });
  context.on("weberror", (error) => complaints.uncaught.push(String(error.error())));
  return complaints;
}

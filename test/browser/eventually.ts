/**
 * The browser tests' one way to assert on the page: playwright-core (unlike @playwright/test) has no
 * auto-waiting `expect`, so every read of page state goes through vitest's `expect.poll`, which
 * re-reads and re-asserts until the assertion holds or the bound below runs out. A page updates after
 * its event handlers, fetches and `close` events have run, not when a click resolves.
 */
import { expect } from "vitest";

/** Long enough for a loaded machine, well inside the project's 60 s test timeout. */
const TIMEOUT_MS = 15_000;

/** `await eventually(() => locator.inputValue()).toBe("")`: retries until it holds, for at most 15 s. */
export function eventually<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: TIMEOUT_MS });
}

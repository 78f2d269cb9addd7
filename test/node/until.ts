import { expect } from "vitest";

/**
 * Yields to the event loop (no timer) until `condition` holds, at most `limitMs`: for states a
 * local server reports, such as a request held by the "hang" fault.
 */
export async function until(condition: () => boolean, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

import { onTestFinished, vi } from "vitest";

/**
 * Fakes the clock 5 s into the next minute window for the rest of the test, so every request of a
 * limit test lands in one window: across a window edge a sliding window weighs earlier requests
 * down and would rightly admit one more.
 */
export function inOneMinuteWindow(): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Math.ceil(Date.now() / 60_000) * 60_000 + 5_000);
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

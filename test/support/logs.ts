import { vi } from "vitest";

/**
 * Every line the Worker prints to the console from now on, as printed (and not shown), until
 * `vi.restoreAllMocks()` — for tests about what reaches a log line.
 */
export function captureLogs(): string[] {
  const lines: string[] = [];
  for (const level of ["log", "warn", "error", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
  return lines;
}

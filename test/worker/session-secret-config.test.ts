/**
 * SESSION_SECRET is checked with the rest of the configuration (docs/DESIGN.md#configuration):
 * every listed secret at least 32 bytes, never the placeholder of .dev.vars.example; a bad one is
 * the generic 503 of a broken configuration, named in the log and never on the wire.
 */

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ConfigError,
  type Env,
  loadConfig,
  SESSION_SECRET_MIN_BYTES,
  SESSION_SECRET_PLACEHOLDER,
} from "../../src/config/env";
import { expectProblem, ORIGIN, workerFetch } from "../support/http";
import { captureLogs } from "../support/logs";

const strong = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const withSecret = (SESSION_SECRET: string): Env => ({ ...(env as Env), SESSION_SECRET });

function configProblems(SESSION_SECRET: string): string[] {
  try {
    loadConfig(withSecret(SESSION_SECRET));
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("SESSION_SECRET", () => {
  it.each([
    ["the placeholder", SESSION_SECRET_PLACEHOLDER],
    ["the placeholder after a strong secret", `${strong()},${SESSION_SECRET_PLACEHOLDER}`],
    ["a 31-byte secret", "x".repeat(SESSION_SECRET_MIN_BYTES - 1)],
    ["a short second secret", `${strong()},short`],
    ["only commas", ",,"],
  ])("%s is a configuration error naming SESSION_SECRET", (_, value) => {
    const problems = configProblems(value);
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) expect(problem).toMatch(/^SESSION_SECRET: /);
  });

  it.each([
    ["one 32-byte secret", "x".repeat(SESSION_SECRET_MIN_BYTES)],
    ["32 bytes of UTF-8 in fewer characters", "é".repeat(SESSION_SECRET_MIN_BYTES / 2)],
    ["a rotation list of strong secrets", `${strong()}, ${strong()},${strong()}`],
  ])("%s is accepted", (_, value) => {
    expect(configProblems(value)).toEqual([]);
  });

  it("a weak secret makes the Worker answer the generic 503, with the cause in the log only", async () => {
    const lines = captureLogs();
    const weak = "too-short-to-sign-sessions";
    const response = await workerFetch(new Request(`${ORIGIN}/api/keys`), { SESSION_SECRET: weak });
    const body = await expectProblem(response, 503, "service_unavailable");
    expect(JSON.stringify(body)).not.toContain("SESSION_SECRET");
    const logged = lines.join("\n");
    expect(logged).toContain("config_invalid");
    expect(logged).toContain("SESSION_SECRET");
    expect(logged).not.toContain(weak);
  });
});

/** Every log line is redacted on the way out (src/observability/logger.ts; house rule: no secret in a log). */
import { afterEach, describe, expect, it, vi } from "vitest";
import { generateKey } from "../../src/keys/token";
import { createLogger } from "../../src/observability/logger";
import { REDACTED } from "../../src/observability/redact";
import { captureLogs } from "../support/logs";

/** The JSON lines the logger printed while `run` ran, parsed. */
function logged(run: () => void): Record<string, unknown>[] {
  const lines = captureLogs();
  run();
  vi.restoreAllMocks();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLWJ5dGVz";
const SECRETS = {
  apiKey: generateKey(),
  openai: "sk-proj-AbCdEfGhIjKlMnOpQrStUv",
  gemini: "AIzaSyA1234567890abcdefghijklmnop",
  groq: "gsk_0123456789abcdefghijkl",
  bearer: "opaque-bearer-value-42",
  jwt: JWT,
  base64: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU2Nzg5",
};

describe("log redaction", () => {
  it("secret-named fields are replaced, at any depth and in any case", () => {
    const [line] = logged(() =>
      createLogger({ requestId: "req-1" }).log("info", "request", {
        headers: { Authorization: "Bearer abc", "X-Api-Key": "k1", "x-goog-api-key": "k2", Cookie: "c=1" },
        body: { password: "hunter2", token: "t", secret: "s", apiKey: "k3", ciphertext: "v1.x.y" },
        route: "/api/keys",
      }),
    );
    expect(line).toMatchObject({
      level: "info",
      event: "request",
      requestId: "req-1",
      route: "/api/keys",
      headers: {
        Authorization: REDACTED,
        "X-Api-Key": REDACTED,
        "x-goog-api-key": REDACTED,
        Cookie: REDACTED,
      },
      body: { password: REDACTED, token: REDACTED, secret: REDACTED, apiKey: REDACTED, ciphertext: REDACTED },
    });
  });

  it.each(Object.entries(SECRETS))(
    "a %s inside free text, an array or an error never reaches the line",
    (_, secret) => {
      const text = `upstream said: ${secret === SECRETS.bearer ? `Bearer ${secret}` : secret} (retry later)`;
      const lines = logged(() => {
        const logger = createLogger().child({ note: text });
        logger.log("warn", "free_text", { detail: text, list: [text, { deeper: [text] }] });
        logger.log("error", "failed", { error: new Error(text) });
      });
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        const json = JSON.stringify(line);
        expect(json).not.toContain(secret);
        expect(json).toContain(REDACTED);
        // Only the secret goes: the text around it stays readable.
        expect(json).toContain("upstream said: ");
        expect(json).toContain(" (retry later)");
      }
    },
  );

  it("ordinary values pass untouched", () => {
    const fields = {
      route: "/v1/projects",
      status: 200,
      keyId: crypto.randomUUID(),
      ok: true,
      tags: ["a", "b"],
    };
    const [line] = logged(() => createLogger().log("info", "ok", fields));
    expect(line).toEqual({ level: "info", event: "ok", ...fields });
  });
});

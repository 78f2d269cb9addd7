/**
 * The secret canary (issue 7): across an end-to-end run of the Worker under wrangler's dev server,
 * every line printed (the app's logger and what workerd/wrangler print) and every response (bodies
 * and headers) is captured. A canary public key (after its creation response), a canary provider
 * key and the master key must appear in none of them.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "../support/test-stack";
import { type LocalApp, startLocalApp } from "./local-app";

const stack = inject("stack");
const CANARY_PROVIDER_KEY = "sk-good-canary-4b7e1d9a2c6f8e3b5a0d";

let app: LocalApp;
const printed: string[] = [];
const responses: string[] = [];
const restore: (() => void)[] = [];

/**
 * Records everything printed: wrangler hands workerd's stdout/stderr (with the Worker's console
 * lines) to its logger, which prints through `console`; anything else goes straight to the streams.
 */
function captureOutput() {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      printed.push(args.map((a) => (typeof a === "string" ? a : String(a))).join(" "));
      original(...args);
    };
    restore.push(() => {
      console[level] = original;
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original as typeof stream.write;
    });
  }
}

/** A request whose whole answer is recorded, unless it is the one answer allowed to hold a new key. */
async function request(
  path: string,
  init: RequestInit & { token?: string } = {},
  { showsNewKey = false } = {},
) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  if (init.body) headers.set("Content-Type", "application/json");
  const response = await fetch(`${app.origin}${path}`, { ...init, headers });
  const text = await response.text();
  responses.push([...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n"));
  if (!showsNewKey) responses.push(text);
  return { status: response.status, json: () => JSON.parse(text) as Record<string, unknown> };
}

beforeAll(async () => {
  captureOutput();
  app = await startLocalApp(stack);
});

afterAll(async () => {
  await app?.stop();
  for (const undo of restore) undo();
});

describe("secret canary", () => {
  it("no public key, provider key or master key reaches a log line or a response", async () => {
    const signIn = await request("/dev/session", {
      method: "POST",
      body: JSON.stringify({ userId: "canary-user" }),
    });
    const session = signIn.json().token as string;

    const created = await request(
      "/api/keys",
      {
        method: "POST",
        token: session,
        body: JSON.stringify({ name: "canary", permissions: ["projects:read", "projects:write"] }),
      },
      { showsNewKey: true },
    );
    expect(created.status).toBe(201);
    const { id, key: canaryKey } = created.json() as { id: string; key: string };

    // Use it every way a client might, right and wrong.
    expect((await request("/v1/key", { token: canaryKey })).status).toBe(200);
    expect((await request("/v1/projects", { token: canaryKey })).status).toBe(200);
    expect(
      (
        await request("/v1/projects", {
          method: "POST",
          token: canaryKey,
          body: JSON.stringify({ name: "p" }),
        })
      ).status,
    ).toBe(201);
    expect(
      (await request("/v1/projects", { method: "POST", token: canaryKey, body: "{not json" })).status,
    ).toBe(400);
    // The last character changed (never to itself: a key ending in 0 would otherwise stay valid).
    const altered = `${canaryKey.slice(0, -1)}${canaryKey.endsWith("0") ? "1" : "0"}`;
    expect((await request("/v1/key", { token: altered })).status).toBe(401);
    expect((await request("/v1/key", { headers: { Authorization: `Basic ${canaryKey}` } })).status).toBe(401);
    expect((await request("/api/keys", { token: canaryKey })).status).toBe(401); // an API key is not a session
    expect((await request("/api/keys", { token: session })).status).toBe(200);
    expect(
      (
        await request(`/api/keys/${id}`, {
          method: "PATCH",
          token: session,
          body: JSON.stringify({ rateLimit: 100 }),
        })
      ).status,
    ).toBe(200);

    // A provider key: accepted, listed, and a rejected variant whose error body echoes it upstream.
    const saved = await request("/api/provider-keys/openai", {
      method: "PUT",
      token: session,
      body: JSON.stringify({ apiKey: CANARY_PROVIDER_KEY }),
    });
    expect(saved.status).toBe(200);
    const rejected = await request("/api/provider-keys/groq", {
      method: "PUT",
      token: session,
      body: JSON.stringify({ apiKey: CANARY_PROVIDER_KEY.replace("good", "bad") }),
    });
    expect(rejected.status).toBe(422);
    expect((await request("/api/provider-keys", { token: session })).status).toBe(200);
    expect((await request("/api/audit", { token: session })).status).toBe(200);

    const rolled = await request(
      `/api/keys/${id}/roll`,
      { method: "POST", token: session, body: "{}" },
      { showsNewKey: true },
    );
    expect(rolled.status).toBe(200);
    expect((await request(`/api/keys/${id}`, { method: "DELETE", token: session })).status).toBe(204);
    expect((await request("/v1/key", { token: canaryKey })).status).toBe(401);
    expect((await request("/health")).status).toBe(200);
    expect((await request("/settings/api-keys")).status).toBe(200);

    const masterKey = app.secrets.PROVIDER_KEYS_MASTER_KEYS.split(":")[1] as string;
    const output = printed.join("");
    // The capture works: the app's own request lines are in it.
    expect(output).toContain('"event":"request"');
    for (const [name, secret] of [
      ["public key", canaryKey],
      ["public key body", canaryKey.slice(6, 38)],
      ["provider key", CANARY_PROVIDER_KEY],
      ["provider key (rejected variant)", CANARY_PROVIDER_KEY.replace("good", "bad")],
      ["master key", masterKey],
      ["session secret", app.secrets.SESSION_SECRET],
    ] as const) {
      expect(output.includes(secret), `${name} printed`).toBe(false);
      expect(
        responses.some((text) => text.includes(secret)),
        `${name} in a response`,
      ).toBe(false);
    }
  });
});

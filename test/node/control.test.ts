/**
 * The control API (scripts/local/control.ts) that tests and the bench use on both local servers:
 * same routes, same answers, each server's own error body.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NeonServer, startNeonServer } from "../../scripts/local/neon-server";
import { startUpstashServer, type UpstashServer } from "../../scripts/local/upstash-server";
import { stack } from "../support/stack";

let neon: NeonServer;
let upstash: UpstashServer;

beforeAll(async () => {
  neon = await startNeonServer();
  upstash = await startUpstashServer({ redisUrl: stack.redisUrl, token: "control-test" });
});

afterAll(async () => {
  await Promise.all([neon?.close(), upstash?.close()]);
});

const json = async (response: Response) => ({
  status: response.status,
  body: (await response.json()) as Record<string, unknown>,
});

describe.each([
  ["neon", () => neon.url, "message"],
  ["upstash", () => upstash.url, "error"],
] as const)("control API of the local %s server", (_name, url, errorKey) => {
  it("reads and resets the counters without counting itself", async () => {
    await fetch(`${url()}/__local/counts/reset`, { method: "POST" });
    const before = await json(await fetch(`${url()}/__local/counts`));
    expect(before.status).toBe(200);
    expect(Object.values(before.body).every((n) => n === 0)).toBe(true);
    const reset = await json(await fetch(`${url()}/__local/counts/reset`, { method: "POST" }));
    expect(reset).toEqual(before);
  });

  it("switches fault modes, reports the mode and refuses unknown ones", async () => {
    for (const mode of ["error", "hang", "none"]) {
      const set = await fetch(`${url()}/__local/fault`, { method: "POST", body: JSON.stringify({ mode }) });
      expect(await json(set)).toEqual({ status: 200, body: { mode } });
      expect(await json(await fetch(`${url()}/__local/fault`))).toEqual({
        status: 200,
        body: { mode, held: 0 },
      });
    }
    const bad = await json(await fetch(`${url()}/__local/fault`, { method: "POST", body: '{"mode":"x"}' }));
    expect(bad.status).toBe(400);
    expect(bad.body[errorKey]).toMatch(/none \| error \| hang/);
    const unknown = await json(await fetch(`${url()}/__local/nothing`));
    expect(unknown.status).toBe(404);
    expect(unknown.body[errorKey]).toMatch(/unknown control endpoint/);
  });
});

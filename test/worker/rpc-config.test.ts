import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import VulkKeys from "../../src/index";

describe("RPC with a broken configuration", () => {
  const { SESSION_SECRET: _dropped, ...incomplete } = env;
  const entrypoint = () => new VulkKeys(createExecutionContext(), incomplete as Env);

  it("every method answers service_unavailable without naming the missing setting", async () => {
    const results = [
      await entrypoint().verify("vk_sk_x"),
      await entrypoint().revokeAllKeys("user"),
      await entrypoint().providerRoute("user", "openai"),
      await entrypoint().rewrapProviderKeys(),
    ];
    for (const result of results) {
      expect(result).toMatchObject({ ok: false, code: "service_unavailable" });
      expect(JSON.stringify(result)).not.toContain("SESSION_SECRET");
    }
  });

  it("providerFetch answers a problem Response instead of throwing", async () => {
    const response = await entrypoint().providerFetch("user", "openai", "/models");
    expect(response.status).toBe(503);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await response.text()).not.toContain("SESSION_SECRET");
  });
});

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import VulkKeys from "../../src/index";

describe("RPC with a broken configuration", () => {
  const { SESSION_SECRET: _dropped, ...incomplete } = env;
  const entrypoint = () => new VulkKeys(createExecutionContext(), incomplete as Env);

  it("verify fails without naming the missing setting", async () => {
    const failure = await entrypoint()
      .verify("vk_sk_x")
      .catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe("vulk-keys is not available right now");
  });

  it("providerFetch answers a problem Response instead of throwing", async () => {
    const response = await entrypoint().providerFetch("user", "openai", "/models");
    expect(response.status).toBe(503);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await response.text()).not.toContain("SESSION_SECRET");
  });
});

/** What the global setup hands to every test (vitest `provide`/`inject`). */
export interface TestStack {
  databaseUrl: string;
  redisUrl: string;
  neonUrl: string;
  neonSqlEndpoint: string;
  upstashUrl: string;
  upstashToken: string;
  /**
   * The region of the leased key check (docs/DESIGN.md#regions): a second Upstash server with its
   * own token, on a second claimed Redis logical database. Only a project whose config provides
   * `keyCheckTopology: "leased"` (vitest.config.ts, `worker-leased`) has one; absent elsewhere.
   */
  regionUpstashUrl?: string;
  regionUpstashToken?: string;
  regionRedisUrl?: string;
  /** Programmable stand-in for third-party endpoints (test/setup/fixture-server.ts). */
  fixtureUrl: string;
  /** The fake model providers (test/setup/fake-providers.ts), also listening on [::1]. */
  fakeProvidersUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: TestStack;
    /**
     * Set in a project's config, beside the Worker's `KEY_CHECK_TOPOLOGY` binding: with "leased"
     * the global setup also starts the region's Upstash server. Absent means single-primary.
     */
    keyCheckTopology?: "single-primary" | "leased";
  }
}

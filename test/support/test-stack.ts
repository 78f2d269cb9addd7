/** What the global setup hands to every test (vitest `provide`/`inject`). */
export interface TestStack {
  databaseUrl: string;
  redisUrl: string;
  neonUrl: string;
  neonSqlEndpoint: string;
  upstashUrl: string;
  upstashToken: string;
  /** Programmable stand-in for third-party endpoints (test/setup/fixture-server.ts). */
  fixtureUrl: string;
  /** The fake model providers (test/setup/fake-providers.ts), also listening on [::1]. */
  fakeProvidersUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

/** What the global setup hands to every test (vitest `provide`/`inject`). */
export interface TestStack {
  databaseUrl: string;
  redisUrl: string;
  neonUrl: string;
  neonSqlEndpoint: string;
  neonWsProxy: string;
  upstashUrl: string;
  upstashToken: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

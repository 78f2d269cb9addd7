import { expect } from "vitest";
import { stack } from "./stack";

export interface FixtureResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string is served as is; anything else as JSON. */
  body: unknown;
}

/** Programs what `GET <path>` on the fixture server answers (test/setup/fixture-server.ts). */
export async function setFixtureRoute(path: string, response: FixtureResponse): Promise<void> {
  const answer = await fetch(`${stack.fixtureUrl}/__fixture/routes`, {
    method: "POST",
    body: JSON.stringify({ path, ...response }),
  });
  expect(answer.status).toBe(204);
}

/** Requests the fixture server has served for `path`. */
export async function fixtureHits(path: string): Promise<number> {
  const response = await fetch(`${stack.fixtureUrl}/__fixture/hits`);
  return ((await response.json()) as Record<string, number>)[path] ?? 0;
}

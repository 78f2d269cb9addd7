import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiKeys, auditEvents, projects, providerKeys } from "../../src/db/schema";
import { PERMISSIONS } from "../../src/domain/permissions";
import { generateKey, KEY_PATTERN, parseKey } from "../../src/keys/token";
import { presentedKey } from "../../src/verify/credential";
import { decide, type KeyFacts } from "../../src/verify/decision";
import { newUserId, ORIGIN, sessionToken, workerFetch } from "../support/http";
import { db } from "../support/stores";
import { freshIp, issueKey, v1 } from "../support/v1";

const RUNS = { decision: 10_000, worker: 1_000, bodies: 150 };
/** Thousands of real requests: a budget, not a speed assertion. */
const LONG = 120_000;

const headerText = fc.oneof(
  fc.string({
    unit: fc.constantFrom(..."Bearer vk_sk_0123456789ABCDEFabcdefxyz \t-._~+/=".split("")),
    maxLength: 60,
  }),
  fc.string({ unit: "grapheme-ascii", maxLength: 80 }),
  generatedKeyVariants(),
);

/** Real keys, mutated: one char changed, truncated, extended, case-flipped — with or without Bearer. */
function generatedKeyVariants() {
  return fc
    .tuple(fc.nat(43), fc.constantFrom("mutate", "truncate", "extend", "flip", "keep"), fc.boolean())
    .map(([i, how, bearer]) => {
      const key = generateKey();
      const variant =
        how === "mutate"
          ? key.slice(0, i) + (key[i] === "a" ? "b" : "a") + key.slice(i + 1)
          : how === "truncate"
            ? key.slice(0, i)
            : how === "extend"
              ? `${key}x`
              : how === "flip"
                ? key.slice(0, i) + (key[i] ?? "").toUpperCase() + key.slice(i + 1)
                : key;
      return bearer ? `Bearer ${variant}` : variant;
    });
}

describe("the credential parser and decision (pure)", () => {
  it(`${RUNS.decision} Authorization values: never a throw; accepted only for a well-formed, checksummed key`, () => {
    fc.assert(
      fc.property(headerText, (header) => {
        const presented = presentedKey(header, "authorization-header");
        if (presented.ok) {
          expect(presented.key).toMatch(KEY_PATTERN);
          expect(parseKey(presented.key).ok).toBe(true);
        } else {
          expect(["missing_key", "malformed_key"]).toContain(presented.code);
        }
      }),
      { numRuns: RUNS.decision },
    );
  });

  it("the verdict order is always key → limit → permission", () => {
    const facts = fc.record({
      id: fc.uuid(),
      ownerId: fc.string(),
      name: fc.string(),
      permissions: fc.subarray([...PERMISSIONS]),
      rateLimit: fc.integer({ min: 10, max: 1000 }),
      accountRateLimit: fc.integer({ min: 10, max: 1_000_000 }),
      projects: fc.option(fc.array(fc.uuid(), { minLength: 1, maxLength: 3 })),
      expiresAtMs: fc.option(fc.integer({ min: 0, max: 2e12 })),
      revoked: fc.boolean(),
      enabled: fc.boolean(),
      matched: fc.constantFrom("current" as const, "previous" as const),
      previousExpiresAtMs: fc.option(fc.integer({ min: 0, max: 2e12 })),
    });
    fc.assert(
      fc.property(
        facts,
        fc.constantFrom(null, "key" as const, "account" as const),
        fc.option(fc.constantFrom(...PERMISSIONS)),
        fc.integer({ min: 0, max: 2e12 }),
        (key: KeyFacts, hit, required, nowMs) => {
          const rate = [
            { policy: "key" as const, limit: key.rateLimit, remaining: 0, resetMs: nowMs, windowSeconds: 60 },
          ] as const;
          const success = hit === null;
          const limit =
            hit === null ? { success: true as const, rate } : { success: false as const, hit, rate };
          const verdict = decide({ key, limit, required, nowMs });
          const keyBad =
            key.revoked ||
            !key.enabled ||
            (key.expiresAtMs !== null && key.expiresAtMs <= nowMs) ||
            (key.matched === "previous" &&
              (key.previousExpiresAtMs === null || key.previousExpiresAtMs <= nowMs));
          if (keyBad) expect(verdict.allow ? "allowed" : verdict.code).toMatch(/^key_/);
          else if (!success) expect(verdict.allow ? "allowed" : verdict.code).toBe("rate_limited");
          else if (required && !key.permissions.includes(required))
            expect(verdict.allow ? "allowed" : verdict.code).toBe("missing_permission");
          else expect(verdict.allow).toBe(true);
        },
      ),
      { numRuns: RUNS.decision },
    );
  });
});

async function expectCleanError(response: Response) {
  expect(response.status, await response.clone().text()).toBeLessThan(500);
  if (response.status >= 400) expect(response.headers.get("Content-Type")).toBe("application/problem+json");
}

describe("through the Worker", () => {
  it(
    `${RUNS.worker} arbitrary Authorization headers on /v1: 401s (or 429), never a 5xx`,
    async () => {
      await fc.assert(
        fc.asyncProperty(headerText, async (header) => {
          // Headers cannot carry every string; what fetch refuses never reaches a server anyway.
          let headers: Headers;
          try {
            headers = new Headers({ Authorization: header });
          } catch {
            return;
          }
          const response = await v1(headers.get("Authorization"), "/v1/projects", { ip: freshIp() });
          await expectCleanError(response);
          expect([401, 429]).toContain(response.status);
          expect(response.headers.get("X-RateLimit-Limit")).not.toBeNull();
        }),
        { numRuns: RUNS.worker },
      );
    },
    LONG,
  );
});

/** Bodies of every shape: wrong types, huge strings, deep nesting, unicode, prototype keys, duplicates. */
const hostileJson = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  fc.dictionary(
    fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "name",
      "permissions",
      "rateLimit",
      "files",
      "apiKey",
      "baseUrl",
      "content",
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  fc.integer({ min: 1, max: 200 }).map((depth) => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => ({ name: s, permissions: [s], content: s })),
  fc.constant({ name: "x".repeat(100_000), permissions: ["projects:read"] }),
);
const rawBodies = fc.oneof(
  hostileJson.map((v) => ({ text: JSON.stringify(v) ?? "null", type: "application/json" })),
  fc.string({ maxLength: 100 }).map((text) => ({ text, type: "application/json" })), // malformed JSON
  fc
    .constantFrom('{"name":"a","name":"b","permissions":["projects:read"]}', "{}", "", "null")
    .map((text) => ({ text, type: "application/json" })),
  fc.record({
    text: fc.string({ maxLength: 50 }),
    type: fc.constantFrom(
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      "",
    ),
  }),
);

async function send(method: string, path: string, auth: string, body: { text: string; type: string }) {
  const headers: Record<string, string> = { Authorization: auth, "CF-Connecting-IP": freshIp() };
  if (body.type) headers["Content-Type"] = body.type;
  return workerFetch(new Request(`${ORIGIN}${path}`, { method, headers, body: body.text }));
}

const countFor = async (ownerId: string) => {
  const [row] = (
    await db().execute(sql`select
      (select count(*) from ${apiKeys} where owner_id = ${ownerId})::int as keys,
      (select count(*) from ${auditEvents} where owner_id = ${ownerId})::int as audit,
      (select count(*) from ${providerKeys} where owner_id = ${ownerId})::int as provider_keys,
      (select count(*) from ${projects} where owner_id = ${ownerId})::int as projects`)
  ).rows;
  return row;
};

describe("generated bodies on every write endpoint", () => {
  const endpoints: {
    name: string;
    method: string;
    path: (ctx: { keyId: string; projectId: string }) => string;
    v1: boolean;
    allow?: number[];
  }[] = [
    { name: "POST /api/keys", method: "POST", path: () => "/api/keys", v1: false },
    { name: "PATCH /api/keys/{id}", method: "PATCH", path: (c) => `/api/keys/${c.keyId}`, v1: false },
    { name: "POST /api/keys/{id}/roll", method: "POST", path: (c) => `/api/keys/${c.keyId}/roll`, v1: false },
    {
      name: "PUT /api/provider-keys/openai",
      method: "PUT",
      path: () => "/api/provider-keys/openai",
      v1: false,
      allow: [502],
    },
    {
      name: "PUT /api/provider-keys/custom",
      method: "PUT",
      path: () => "/api/provider-keys/custom",
      v1: false,
    },
    { name: "POST /v1/projects", method: "POST", path: () => "/v1/projects", v1: true },
    {
      name: "PATCH /v1/projects/{id}",
      method: "PATCH",
      path: (c) => `/v1/projects/${c.projectId}`,
      v1: true,
    },
    {
      name: "PUT /v1/projects/{id}/files/{path}",
      method: "PUT",
      path: (c) => `/v1/projects/${c.projectId}/files/a.txt`,
      v1: true,
    },
  ];

  it.each(endpoints)(
    "$name: never a 5xx; a 4xx writes nothing",
    async (endpoint) => {
      const ownerId = newUserId();
      const apiKey = await issueKey(ownerId, [...PERMISSIONS], { rateLimit: 1000 });
      const created = await v1(apiKey.key, "/v1/projects", { method: "POST", body: { name: "fuzz" } });
      const projectId = ((await created.json()) as { id: string }).id;
      const session = `Bearer ${await sessionToken(ownerId)}`;
      const auth = endpoint.v1 ? `Bearer ${apiKey.key}` : session;
      await fc.assert(
        fc.asyncProperty(rawBodies, async (body) => {
          const before = await countFor(ownerId);
          const response = await send(
            endpoint.method,
            endpoint.path({ keyId: apiKey.id, projectId }),
            auth,
            body,
          );
          if (!endpoint.allow?.includes(response.status)) await expectCleanError(response);
          if (response.status >= 400) expect(await countFor(ownerId)).toEqual(before);
        }),
        { numRuns: RUNS.bodies },
      );
      // The owner's data is still intact and readable.
      const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
      expect(row?.ownerId).toBe(ownerId);
    },
    LONG,
  );
});

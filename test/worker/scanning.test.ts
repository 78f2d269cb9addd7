/**
 * POST /scanning/github: GitHub's signed secret-scanning reports revoke leaked keys at once, through
 * the same marker protocol as DELETE, and are answered with partner feedback.
 */
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { apiKeys, auditEvents } from "../../src/db/schema";
import { markerKey } from "../../src/keys/keyspace";
import { generateKey, hashKey } from "../../src/keys/token";
import { unstorableStrings } from "../../src/lib/text";
import { derToP1363, p1363ToDer } from "../../src/scanning/ecdsa-der";
import { MAX_TOKENS_PER_REPORT } from "../../src/scanning/report";
import { fixtureHits, setFixtureRoute } from "../support/fixture";
import {
  createGithubSigner,
  type GithubSigner,
  KEYS_PATH,
  postReport,
  reportBody,
  sendSignedReport,
} from "../support/github-scanning";
import { asUser, call, expectProblem, newUserId } from "../support/http";
import { countRequests } from "../support/stack";
import { db } from "../support/stores";
import { issueKey, setFault, upstashCommand, v1 } from "../support/v1";

/** GitHub's current signing key and an older one it still publishes. */
let github: GithubSigner;
let githubOlder: GithubSigner;

/** A key-shaped token whose checksum is wrong. */
const badChecksum = (key: string) => key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");

const marker = (keyId: string) => upstashCommand("GET", markerKey(keyId));

async function leakedEvents(keyId: string) {
  return db()
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.targetId, keyId), eq(auditEvents.action, "key.leaked")));
}

async function keyRow(keyId: string) {
  const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, keyId));
  return row;
}

type Feedback = { token_hash: string; token_type: string; label: string }[];

async function feedbackOf(response: Response): Promise<Feedback> {
  expect(response.status).toBe(200);
  return (await response.json()) as Feedback;
}

beforeAll(async () => {
  github = await createGithubSigner();
  githubOlder = await createGithubSigner();
  await setFixtureRoute(KEYS_PATH, {
    status: 200,
    body: { public_keys: [{ ...githubOlder.published, is_current: false }, github.published] },
  });
  // Load the key list into this isolate once (later reports are served from the cache).
  const warmUp = await sendSignedReport(github, reportBody([{ token: "vk_sk_warm_up" }]));
  expect(warmUp.status).toBe(200);
});

describe("a signed report of a live key", () => {
  it("revokes it at once: next /v1 call 401 key_revoked; audited; marker revoked; true_positive", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200); // cached in this isolate
    const url = "https://github.com/octo/repo/blob/abc123/config/.env";

    const feedback = await feedbackOf(
      await sendSignedReport(github, reportBody([{ token: key.key, url, source: "commit" }])),
    );

    expect(feedback).toEqual([
      { token_hash: await hashKey(key.key), token_type: "vulk_api_key", label: "true_positive" },
    ]);
    expect(feedback[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
    expect(await marker(key.id)).toBe("revoked");
    const row = await keyRow(key.id);
    expect(row?.revokedAt).toBeInstanceOf(Date);
    expect(row?.version).toBe(2);
    const [event, ...more] = await leakedEvents(key.id);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      ownerId: key.ownerId,
      actor: "system:github-secret-scanning",
      ip: null,
      metadata: { reporter: "github", secret: "current", tokenType: "vulk_api_key", url, source: "commit" },
    });
    // The owner sees it in the audit trail; the key leaves the list of active keys.
    const audit = (await (await asUser(key.ownerId, "GET", "/api/audit")).json()) as {
      data: { action: string; keyId: string }[];
    };
    expect(audit.data[0]).toMatchObject({ action: "key.leaked", keyId: key.id });
    const list = (await (await asUser(key.ownerId, "GET", "/api/keys")).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
  });

  it("signed with an older key GitHub still publishes: accepted", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const feedback = await feedbackOf(await sendSignedReport(githubOlder, reportBody([{ token: key.key }])));
    expect(feedback[0]?.label).toBe("true_positive");
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
  });

  it("Redis down → 503 and nothing revoked; GitHub's retry revokes and writes the marker", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const body = reportBody([{ token: key.key }]);
    await setFault("upstash", "error");
    try {
      await expectProblem(await sendSignedReport(github, body), 503, "service_unavailable");
    } finally {
      await setFault("upstash", "none");
    }
    expect((await keyRow(key.id))?.revokedAt).toBeNull(); // the `changing` step failed: nothing done
    const retried = await feedbackOf(await sendSignedReport(github, body));
    expect(retried[0]?.label).toBe("true_positive");
    expect(await marker(key.id)).toBe("revoked");
    expect(await leakedEvents(key.id)).toHaveLength(1);
  });
});

describe("forged reports: 401, nothing done", () => {
  it.each([
    [
      "signed by a key GitHub does not publish",
      async (body: string) => {
        const forger = await createGithubSigner(github.identifier);
        return forger.sign(body);
      },
    ],
    ["a tampered body", async (body: string) => github.sign(body.replace("content", "commit"))],
    ["no signature headers", async () => ({})],
    [
      "no signature",
      async (body: string) => {
        const { "Github-Public-Key-Identifier": identifier } = await github.sign(body);
        return { "Github-Public-Key-Identifier": identifier as string };
      },
    ],
    [
      "no identifier",
      async (body: string) => {
        const { "Github-Public-Key-Signature": signature } = await github.sign(body);
        return { "Github-Public-Key-Signature": signature as string };
      },
    ],
    ["an unknown identifier", async (body: string) => (await createGithubSigner()).sign(body)],
    [
      "a signature that is not DER",
      async (body: string) => ({
        ...(await github.sign(body)),
        "Github-Public-Key-Signature": btoa("not a signature"),
      }),
    ],
    [
      "a signature that is not base64",
      async (body: string) => ({
        ...(await github.sign(body)),
        "Github-Public-Key-Signature": "%%%",
      }),
    ],
  ])("%s", async (_name, headersFor) => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const body = reportBody([{ token: key.key }]);
    const refused = await countRequests(async () => postReport(body, await headersFor(body)));
    const problem = await expectProblem(refused.result, 401, "invalid_signature");
    expect(JSON.stringify(problem)).not.toContain(key.key);
    expect({ neon: refused.neon, upstash: refused.upstash }).toEqual({ neon: 0, upstash: 0 });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    expect(await leakedEvents(key.id)).toEqual([]);
  });
});

describe("signature malleability", () => {
  /** The order of P-256: (r, n − s) signs the same body as (r, s). */
  const ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

  /** GitHub's headers for `body` with s forced into its high form (s > n/2). */
  async function highS(body: string): Promise<Record<string, string>> {
    const headers = await github.sign(body);
    const der = Uint8Array.from(atob(headers["Github-Public-Key-Signature"] ?? ""), (c) => c.charCodeAt(0));
    const raw = derToP1363(der) as Uint8Array;
    const s = BigInt(`0x${hex(raw.subarray(32))}`);
    const high = s > ORDER / 2n ? s : ORDER - s;
    const flipped = Uint8Array.from([
      ...raw.subarray(0, 32),
      ...(high.toString(16).padStart(64, "0").match(/../g) ?? []).map((h) => Number.parseInt(h, 16)),
    ]);
    return {
      ...headers,
      "Github-Public-Key-Signature": btoa(String.fromCharCode(...p1363ToDer(flipped))),
    };
  }

  it("a report signed in high-S form is accepted: low-S is deliberately not enforced", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const body = reportBody([{ token: key.key }]);
    const feedback = await feedbackOf(await postReport(body, await highS(body)));
    expect(feedback.map((f) => f.label)).toEqual(["true_positive"]);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
  });
});

describe("feedback labels", () => {
  it("a token with a bad checksum is a false positive and costs no database query", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const tokens = [badChecksum(key.key), "vk_sk_tooshort", "not even close"];
    const answered = await countRequests(async () =>
      feedbackOf(await sendSignedReport(github, reportBody(tokens.map((token) => ({ token }))))),
    );
    expect({ neon: answered.neon, upstash: answered.upstash }).toEqual({ neon: 0, upstash: 0 });
    expect(answered.result).toEqual(
      await Promise.all(
        tokens.map(async (token) => ({
          token_hash: await hashKey(token),
          token_type: "vulk_api_key",
          label: "false_positive",
        })),
      ),
    );
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
  });

  it("an unknown key with a valid checksum is a false positive (one lookup, nothing written)", async () => {
    const answered = await countRequests(async () =>
      feedbackOf(await sendSignedReport(github, reportBody([{ token: generateKey(), type: "custom_type" }]))),
    );
    expect(answered.result).toEqual([
      expect.objectContaining({ token_type: "custom_type", label: "false_positive" }),
    ]);
    expect({ neon: answered.neon, upstash: answered.upstash }).toEqual({ neon: 1, upstash: 0 });
  });

  it("an already revoked key is a true positive; its marker is written again, nothing else", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await asUser(key.ownerId, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
    await upstashCommand("DEL", markerKey(key.id)); // as if that DELETE's marker write had been lost
    const answered = await countRequests(async () =>
      feedbackOf(await sendSignedReport(github, reportBody([{ token: key.key }]))),
    );
    expect(answered.result[0]?.label).toBe("true_positive");
    expect({ neon: answered.neon, upstash: answered.upstash }).toEqual({ neon: 1, upstash: 1 });
    expect(await marker(key.id)).toBe("revoked");
    expect(await leakedEvents(key.id)).toEqual([]);
  });
});

describe("a rolled key", () => {
  async function rolledKey() {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const rolled = await asUser(key.ownerId, "POST", `/api/keys/${key.id}/roll`, {
      gracePeriodSeconds: 3600,
    });
    const { key: newKey } = (await rolled.json()) as { key: string };
    expect((await v1(key.key, "/v1/key")).status).toBe(200); // the old secret works: in grace
    return { ...key, oldKey: key.key, newKey };
  }

  it("a leaked previous secret in its grace period stops working; the new secret keeps working", async () => {
    const key = await rolledKey();
    const feedback = await feedbackOf(await sendSignedReport(github, reportBody([{ token: key.oldKey }])));
    expect(feedback[0]).toEqual({
      token_hash: await hashKey(key.oldKey),
      token_type: "vulk_api_key",
      label: "true_positive",
    });
    await expectProblem(await v1(key.oldKey, "/v1/key"), 401, "key_expired");
    expect((await v1(key.newKey, "/v1/key")).status).toBe(200);
    const row = await keyRow(key.id);
    expect(row?.revokedAt).toBeNull();
    expect(row?.version).toBe(3); // created 1, rolled 2, grace ended 3
    expect(row?.previousExpiresAt?.getTime()).toBeLessThan(Date.now());
    expect(await marker(key.id)).toBe("3");
    const [event] = await leakedEvents(key.id);
    expect(event?.metadata).toMatchObject({ secret: "previous" });

    // Reported again: still ours (true positive), nothing more to do.
    const again = await feedbackOf(await sendSignedReport(github, reportBody([{ token: key.oldKey }])));
    expect(again[0]?.label).toBe("true_positive");
    expect(await leakedEvents(key.id)).toHaveLength(1);
    expect((await keyRow(key.id))?.version).toBe(3);
  });

  it("both secrets leaked in one report: the key is revoked, once", async () => {
    const key = await rolledKey();
    const body = reportBody([{ token: key.oldKey }, { token: key.newKey }]);
    const feedback = await feedbackOf(await sendSignedReport(github, body));
    expect(feedback.map((f) => f.label)).toEqual(["true_positive", "true_positive"]);
    await expectProblem(await v1(key.newKey, "/v1/key"), 401, "key_revoked");
    await expectProblem(await v1(key.oldKey, "/v1/key"), 401, "key_revoked");
    const events = await leakedEvents(key.id);
    expect(events.map((e) => e.metadata.secret)).toEqual(["current"]);
  });
});

describe("one lookup per report", () => {
  it("live, unknown and bad tokens together: 1 lookup + 1 write batch, markers before and after it", async () => {
    const owner = newUserId();
    const live = [];
    for (let i = 0; i < 3; i++) live.push(await issueKey(owner, ["projects:read"]));
    const unknown = Array.from({ length: 20 }, () => generateKey());
    const bad = unknown.slice(0, 5).map(badChecksum);
    const tokens = [...live.map((k) => k.key), ...unknown, ...bad];

    const answered = await countRequests(async () =>
      feedbackOf(await sendSignedReport(github, reportBody(tokens.map((token) => ({ token }))))),
    );

    // Upstash: the `changing` markers before the commit, the final markers after it.
    expect({ neon: answered.neon, upstash: answered.upstash }).toEqual({ neon: 2, upstash: 2 });
    expect(answered.result.map((f) => f.label)).toEqual([
      ...live.map(() => "true_positive"),
      ...unknown.map(() => "false_positive"),
      ...bad.map(() => "false_positive"),
    ]);
    for (const key of live) {
      await expectProblem(await v1(key.key, "/v1/key"), 401, "key_revoked");
      expect(await leakedEvents(key.id)).toHaveLength(1);
    }
  });

  it("a report of 300 unknown tokens (about as many as 64 KB carries): one lookup query", async () => {
    const tokens = Array.from({ length: 300 }, () => ({ token: generateKey() }));
    const answered = await countRequests(async () =>
      feedbackOf(await sendSignedReport(github, reportBody(tokens))),
    );
    expect(answered.result).toHaveLength(300);
    expect(answered.neon).toBe(1);
  });
});

describe("malformed requests", () => {
  it.each([
    ["a body that is not JSON", "[{"],
    ["JSON that is not an array", JSON.stringify({ token: "vk_sk_x", type: "t" })],
    ["an entry without a token", JSON.stringify([{ type: "vulk_api_key" }])],
    ["a token that is not a string", JSON.stringify([{ token: 42, type: "vulk_api_key" }])],
    ["an empty report", "[]"],
    [
      `more than ${MAX_TOKENS_PER_REPORT} tokens`,
      JSON.stringify(Array.from({ length: MAX_TOKENS_PER_REPORT + 1 }, () => ({ token: "x", type: "t" }))),
    ],
  ])("signed, but %s → 400", async (_name, body) => {
    const answered = await countRequests(() => sendSignedReport(github, body));
    await expectProblem(answered.result, 400, "invalid_request");
    expect(answered.neon).toBe(0);
  });

  it("an unsigned malformed body is refused for its signature first (401)", async () => {
    await expectProblem(await postReport("[{", {}), 401, "invalid_signature");
  });

  it("more than 1 MiB → 413; not JSON → 415", async () => {
    const big = reportBody([{ token: "vk_sk_x", url: `https://github.com/${"a".repeat(1100 * 1024)}` }]);
    await expectProblem(await sendSignedReport(github, big), 413, "payload_too_large");
    const body = reportBody([{ token: "vk_sk_x" }]);
    const response = await call("/scanning/github", {
      method: "POST",
      headers: { "Content-Type": "text/plain", ...(await github.sign(body)) },
      body,
    });
    await expectProblem(response, 415, "unsupported_media_type");
  });
});

describe("GitHub's key list", () => {
  it("is fetched once per isolate, then served from memory", async () => {
    const before = await fixtureHits(KEYS_PATH);
    for (let i = 0; i < 3; i++) {
      expect((await sendSignedReport(github, reportBody([{ token: generateKey() }]))).status).toBe(200);
    }
    expect(await fixtureHits(KEYS_PATH)).toBe(before);
  });
});

describe("the reference", () => {
  it("documents POST /scanning/github under Secret scanning, with no key or session", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<
        string,
        { post?: { tags?: string[]; security?: unknown[]; parameters?: { name: string }[] } }
      >;
      components: { schemas: Record<string, unknown> };
    };
    const operation = doc.paths["/scanning/github"]?.post;
    expect(operation?.tags).toEqual(["Secret scanning"]);
    expect(operation?.security).toEqual([]);
    expect(operation?.parameters?.map((p) => p.name)).toEqual([
      "Github-Public-Key-Identifier",
      "Github-Public-Key-Signature",
    ]);
    expect(doc.components.schemas.SecretScanningReport).toBeDefined();
  });
});

describe("secret-scanning reports with text Postgres cannot store", () => {
  const report = (entry: Record<string, string>) => JSON.stringify([{ type: "vulk_api_key", ...entry }]);

  it.each(["url", "source", "token"])("a NUL in %s is 400 and the key stays live", async (field) => {
    const issued = await issueKey(newUserId(), ["projects:read"]);
    const entry: Record<string, string> = {
      token: issued.key,
      url: "https://github.com/o/r",
      source: "content",
    };
    entry[field] = `${entry[field]}\u0000`;
    const response = await sendSignedReport(github, report(entry));
    await expectProblem(response, 400, "invalid_request");
    const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, issued.id));
    expect(row?.revokedAt).toBeNull();
  });

  it("a long url is clipped for the audit trail without splitting a surrogate pair", async () => {
    const issued = await issueKey(newUserId(), ["projects:read"]);
    const url = `https://github.com/${"a".repeat(2047 - "https://github.com/".length)}😀-rest`;
    const response = await sendSignedReport(github, report({ token: issued.key, url, source: "content" }));
    expect(response.status).toBe(200);
    const [event] = await leakedEvents(issued.id);
    const stored = (event?.metadata as { url?: string } | undefined)?.url ?? "";
    expect(stored).toBe(url.slice(0, 2047));
    expect(unstorableStrings(stored)).toEqual([]);
  });
});

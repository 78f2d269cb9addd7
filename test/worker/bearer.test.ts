/**
 * One reader of `Authorization: Bearer` for sessions (/api) and API keys (/v1)
 * (docs/DESIGN.md#the-key-check, docs/DESIGN.md#sessions-and-browser-access).
 */
import { describe, expect, it } from "vitest";
import { parseBearer } from "../../src/http/bearer";
import { call, newUserId, sessionToken } from "../support/http";
import { freshIp, issueKey, v1 } from "../support/v1";

describe("parseBearer", () => {
  it.each([
    ["Bearer abc.DEF-_~+/=", "abc.DEF-_~+/="],
    ["bearer abc", "abc"],
    ["BEARER abc", "abc"],
    ["bEaReR abc", "abc"],
    ["Bearer\tabc", "abc"],
    ["Bearer   abc  \t", "abc"],
    ["  Bearer abc", "abc"],
  ])("%j carries the token %j", (header, token) => {
    expect(parseBearer(header)).toEqual({ kind: "token", token });
  });

  it.each([null, undefined, "", "   ", "\t"])("%j is no credential at all", (header) => {
    expect(parseBearer(header)).toEqual({ kind: "absent" });
  });

  it.each([
    "Bearer",
    "Bearer ",
    "Bearerabc",
    "Bearer abc def",
    "Bearer abc,def",
    "Bearer \u00e4bc",
    "Bearer abc\n",
    "Bearer\nabc",
    "Basic dXNlcjpwYXNz",
    "Token abc",
    "abc",
  ])("%j is malformed", (header) => {
    expect(parseBearer(header)).toEqual({ kind: "malformed" });
  });
});

/** Header spellings the platform lets through (Headers trims the value and refuses a newline). */
const ACCEPTED = (token: string) => [
  `Bearer ${token}`,
  `bearer ${token}`,
  `BEARER\t${token}`,
  `Bearer   ${token}`,
];
const REFUSED = (token: string) => [
  `Bearer${token}`,
  `Bearer ${token} extra`,
  `Basic ${token}`,
  token,
  "Bearer",
];

describe("sessions and API keys read the header the same way", () => {
  it("every accepted spelling works on /api with a session and on /v1 with a key", async () => {
    const session = await sessionToken(newUserId());
    const key = await issueKey(newUserId(), ["projects:read"]);
    for (const header of ACCEPTED(session)) {
      expect((await call("/api/keys", { headers: { Authorization: header } })).status, header).toBe(200);
    }
    for (const header of ACCEPTED(key.key)) {
      expect((await v1(null, "/v1/key", { headers: { Authorization: header } })).status, header).toBe(200);
    }
  });

  it("every refused spelling is a 401 on both, and the cookie does not rescue a bad header", async () => {
    const session = await sessionToken(newUserId());
    const key = await issueKey(newUserId(), ["projects:read"]);
    for (const header of REFUSED(session)) {
      const response = await call("/api/keys", {
        headers: { Authorization: header, Cookie: `vulk_session=${session}` },
      });
      expect(response.status, header).toBe(401);
      expect(((await response.json()) as { code: string }).code).toBe("invalid_session");
    }
    for (const header of REFUSED(key.key)) {
      const response = await v1(null, "/v1/key", { ip: freshIp(), headers: { Authorization: header } });
      expect(response.status, header).toBe(401);
      expect(((await response.json()) as { code: string }).code).toBe("malformed_key");
    }
  });
});

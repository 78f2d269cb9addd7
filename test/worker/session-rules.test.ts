/**
 * The rules a session JWT must meet beyond a valid signature
 * (docs/DESIGN.md#sessions-and-browser-access): one case per rule, each with its accepted neighbour.
 */
import { describe, expect, it } from "vitest";
import { isSessionSubject, sessionRuleViolation, verifySession } from "../../src/auth/session";
import { call, expectProblem, newUserId } from "../support/http";
import { hmacJwt, nowSeconds, SESSION_SECRETS } from "../support/jwt";

const HOUR = 3600;
const HS256 = { alg: "HS256", typ: "JWT" };
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: newUserId(),
  aud: "vulk-keys",
  exp: nowSeconds() + 600,
  ...extra,
});
const listWith = (token: string) => call("/api/keys", { headers: { Authorization: `Bearer ${token}` } });

const accepted: [string, () => Promise<string>][] = [
  ["no typ header", () => hmacJwt({ alg: "HS256" }, claims())],
  ["aud as an array holding vulk-keys", () => hmacJwt(HS256, claims({ aud: ["other", "vulk-keys"] }))],
  [
    "iat now and exp 24 h later",
    () => hmacJwt(HS256, claims({ iat: nowSeconds(), exp: nowSeconds() + 24 * HOUR })),
  ],
  [
    "iat an hour ago, exp 23 h ahead",
    () => hmacJwt(HS256, claims({ iat: nowSeconds() - HOUR, exp: nowSeconds() + 23 * HOUR })),
  ],
  ["a numeric nbf in the past", () => hmacJwt(HS256, claims({ nbf: nowSeconds() - 10 }))],
  ["a 256-character sub", () => hmacJwt(HS256, claims({ sub: "u".repeat(256) }))],
  ["a sub of 256 astral characters", () => hmacJwt(HS256, claims({ sub: "😀".repeat(256) }))],
  ["a sub with spaces and non-ASCII letters", () => hmacJwt(HS256, claims({ sub: "Zoë Ünal 42" }))],
];

const refused: [string, () => Promise<string>][] = [
  [
    "HS384, even when signed with HS384",
    () => hmacJwt({ alg: "HS384" }, claims(), SESSION_SECRETS[0], "SHA-384"),
  ],
  [
    "HS512, even when signed with HS512",
    () => hmacJwt({ alg: "HS512" }, claims(), SESSION_SECRETS[0], "SHA-512"),
  ],
  ["a crit header", () => hmacJwt({ ...HS256, crit: ["exp"] }, claims())],
  ["an empty crit header", () => hmacJwt({ ...HS256, crit: [] }, claims())],
  ["a typ other than JWT", () => hmacJwt({ alg: "HS256", typ: "at+jwt" }, claims())],
  ["no aud", () => hmacJwt(HS256, claims({ aud: undefined }))],
  ["aud array without vulk-keys", () => hmacJwt(HS256, claims({ aud: ["other"] }))],
  ["a string exp", () => hmacJwt(HS256, claims({ exp: String(nowSeconds() + 600) }))],
  [
    "exp more than 24 h after iat",
    () => hmacJwt(HS256, claims({ iat: nowSeconds() - HOUR, exp: nowSeconds() + 23.5 * HOUR })),
  ],
  ["exp more than 24 h after now", () => hmacJwt(HS256, claims({ exp: nowSeconds() + 24 * HOUR + 120 }))],
  ["a string iat", () => hmacJwt(HS256, claims({ iat: String(nowSeconds()) }))],
  [
    "iat in the future",
    () => hmacJwt(HS256, claims({ iat: nowSeconds() + HOUR, exp: nowSeconds() + 2 * HOUR })),
  ],
  ["a string nbf", () => hmacJwt(HS256, claims({ nbf: "0" }))],
  ["a null nbf", () => hmacJwt(HS256, claims({ nbf: null }))],
  ["nbf in the future", () => hmacJwt(HS256, claims({ nbf: nowSeconds() + 300 }))],
  ["an empty sub", () => hmacJwt(HS256, claims({ sub: "" }))],
  ["a numeric sub", () => hmacJwt(HS256, claims({ sub: 42 }))],
  ["a 257-character sub", () => hmacJwt(HS256, claims({ sub: "u".repeat(257) }))],
  ["a sub with NUL", () => hmacJwt(HS256, claims({ sub: "user\u0000admin" }))],
  ["a sub with a newline", () => hmacJwt(HS256, claims({ sub: "user\nadmin" }))],
  ["a sub with DEL", () => hmacJwt(HS256, claims({ sub: "user\u007f" }))],
  ["a sub with a C1 control", () => hmacJwt(HS256, claims({ sub: "user\u0085" }))],
  ["a sub with a lone high surrogate", () => hmacJwt(HS256, claims({ sub: "user\ud800" }))],
  ["a sub with a lone low surrogate", () => hmacJwt(HS256, claims({ sub: "\udc00user" }))],
  ["claims that are not an object", () => hmacJwt(HS256, null)],
];

describe("session rules", () => {
  it.each(accepted)("accepted: %s", async (_, token) => {
    expect((await listWith(await token())).status).toBe(200);
  });

  it.each(refused)("refused with 401 invalid_session: %s", async (_, token) => {
    await expectProblem(await listWith(await token()), 401, "invalid_session");
  });

  it("the rules use the clock they are given: a token is valid only inside its own window", async () => {
    const issuedAt = nowSeconds();
    const token = await hmacJwt(
      HS256,
      claims({ iat: issuedAt, nbf: issuedAt + HOUR, exp: issuedAt + 2 * HOUR }),
    );
    expect(await verifySession(token, SESSION_SECRETS, issuedAt)).toMatchObject({ ok: false });
    expect(await verifySession(token, SESSION_SECRETS, issuedAt + HOUR)).toMatchObject({ ok: true });
    expect(await verifySession(token, SESSION_SECRETS, issuedAt + 2 * HOUR)).toMatchObject({ ok: false });
  });
});

describe("sessionRuleViolation (this service's rules, whatever the JWT library checks too)", () => {
  const now = nowSeconds();
  const good = { sub: "u1", aud: "vulk-keys", exp: now + 600 };
  it("names the header rules", () => {
    expect(sessionRuleViolation({ alg: "HS256" }, good, now)).toBeUndefined();
    expect(sessionRuleViolation({ alg: "HS256", crit: [] }, good, now)).toBe("crit header");
    expect(sessionRuleViolation({ alg: "HS512" }, good, now)).toBe("algorithm is not HS256");
    expect(sessionRuleViolation({ alg: "none" }, good, now)).toBe("algorithm is not HS256");
    expect(sessionRuleViolation(["HS256"], good, now)).toBe("not a JWT");
  });
});

describe("isSessionSubject", () => {
  it.each([
    ["a", true],
    ["u".repeat(256), true],
    ["😀".repeat(256), true],
    ["e\u0301", true],
    ["", false],
    ["u".repeat(257), false],
    ["😀".repeat(257), false],
    ["a\tb", false],
    ["a\u001fb", false],
    ["a\u009fb", false],
    ["\ud83d", false],
    ["\ude00", false],
    ["\ude00\ud83d", false],
  ])("%j → %s", (value, expected) => {
    expect(isSessionSubject(value)).toBe(expected);
  });

  it("is false for anything but a string", () => {
    for (const value of [undefined, null, 1, ["a"], { sub: "a" }])
      expect(isSessionSubject(value)).toBe(false);
  });
});

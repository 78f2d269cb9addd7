import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signSession, verifySession } from "../../src/auth/session";
import { call, expectProblem, newUserId, ORIGIN, sessionToken, workerFetch } from "../support/http";
import { b64url, hmacJwt, nowSeconds, SESSION_SECRETS } from "../support/jwt";

const DASHBOARD = env.DASHBOARD_ORIGIN;
const [SECRET, SECOND_SECRET] = SESSION_SECRETS;
const now = nowSeconds;
const hs256 = (header: unknown, claims: unknown, secret = SECRET) => hmacJwt(header, claims, secret);

const claims = (extra: Record<string, unknown> = {}) => ({
  sub: newUserId(),
  aud: "vulk-keys",
  exp: now() + 600,
  ...extra,
});
const listWith = (headers: Record<string, string>) => call("/api/keys", { headers });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("session JWTs", () => {
  it("a valid session, signed by any listed secret, is accepted", async () => {
    expect((await listWith(bearer(await sessionToken(newUserId())))).status).toBe(200);
    expect((await listWith(bearer(await signSession(newUserId(), SECOND_SECRET)))).status).toBe(200);
  });

  const refused: [string, () => Promise<string>][] = [
    ["expired", () => hs256({ alg: "HS256" }, claims({ exp: now() - 5 }))],
    ["without exp", () => hs256({ alg: "HS256" }, claims({ exp: undefined }))],
    ["exp more than 24 h ahead", () => hs256({ alg: "HS256" }, claims({ exp: now() + 25 * 3600 }))],
    ["wrong audience", () => hs256({ alg: "HS256" }, claims({ aud: "another-service" }))],
    ["without sub", () => hs256({ alg: "HS256" }, claims({ sub: undefined }))],
    ["alg none", async () => `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims())}.`],
    ["alg HS512 header", () => hs256({ alg: "HS512" }, claims())],
    ["wrong secret", () => hs256({ alg: "HS256" }, claims(), "not-the-secret")],
    [
      "tampered claims",
      async () => {
        const [h, , s] = (await hs256({ alg: "HS256" }, claims())).split(".");
        return `${h}.${b64url(claims({ sub: "someone-else" }))}.${s}`;
      },
    ],
    ["garbage", async () => "not.a.jwt"],
  ];
  it.each(refused)("%s → 401 invalid_session with WWW-Authenticate", async (_, token) => {
    const response = await listWith(bearer(await token()));
    await expectProblem(response, 401, "invalid_session");
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("no session at all → 401", async () => {
    await expectProblem(await listWith({}), 401, "invalid_session");
  });

  it("an API key is never a session", async () => {
    const response = await listWith(bearer(`vk_sk_${"0".repeat(32)}4gACZF`));
    const problem = await expectProblem(response, 401, "invalid_session");
    expect(problem.detail).toMatch(/API key is not a session/);
  });

  it("verifySession itself rejects a token valid for another secret list", async () => {
    const token = await signSession("u1", SECRET);
    expect(await verifySession(token, ["other"])).toEqual({ ok: false, reason: "bad signature" });
    expect(await verifySession(token, [SECRET])).toMatchObject({ ok: true, userId: "u1" });
  });
});

describe("cookie sessions and CSRF", () => {
  const cookie = async (userId: string) => `vulk_session=${await sessionToken(userId)}`;
  const create = (headers: Record<string, string>) =>
    call("/api/keys", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ name: "cookie", permissions: ["projects:read"] }),
    });

  it("a cookie session reads without an Origin", async () => {
    expect((await listWith({ Cookie: await cookie(newUserId()) })).status).toBe(200);
  });

  it("a cookie-authenticated write needs Origin = this origin or the dashboard", async () => {
    const userId = newUserId();
    expect((await create({ Cookie: await cookie(userId), Origin: DASHBOARD })).status).toBe(201);
    expect((await create({ Cookie: await cookie(userId), Origin: ORIGIN })).status).toBe(201);
    await expectProblem(
      await create({ Cookie: await cookie(userId), Origin: "https://evil.example" }),
      403,
      "csrf_rejected",
    );
    await expectProblem(await create({ Cookie: await cookie(userId) }), 403, "csrf_rejected");
  });

  it("this origin is the request URL's, never the Host header's: a forged Host earns nothing", async () => {
    const userId = newUserId();
    const forged = async (origin: string, host: string) => {
      const request = new Request(`${ORIGIN}/api/keys`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Cookie: await cookie(userId),
          Origin: origin,
          Host: host,
        },
        body: JSON.stringify({ name: "cookie", permissions: ["projects:read"] }),
      });
      expect(request.headers.get("Host")).toBe(host);
      return workerFetch(request);
    };
    await expectProblem(await forged("https://evil.example", "evil.example"), 403, "csrf_rejected");
    await expectProblem(await forged("http://evil.example", "evil.example"), 403, "csrf_rejected");
    expect((await forged(ORIGIN, "evil.example")).status).toBe(201);
    expect((await forged(DASHBOARD, "evil.example")).status).toBe(201);
  });

  it("a bearer-authenticated write is not subject to the Origin check", async () => {
    const response = await create({
      ...bearer(await sessionToken(newUserId())),
      Origin: "https://tool.example",
    });
    expect(response.status).toBe(201);
  });
});

describe("CORS on /api", () => {
  it("preflight from the dashboard is allowed with credentials; other origins get no grant", async () => {
    const preflight = (origin: string) =>
      call("/api/keys", {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "content-type",
        },
      });
    const allowed = await preflight(DASHBOARD);
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD);
    expect(allowed.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    const denied = await preflight("https://evil.example");
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("responses to the dashboard expose X-Request-Id", async () => {
    const response = await listWith({ ...bearer(await sessionToken(newUserId())), Origin: DASHBOARD });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD);
    expect(response.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
  });
});

describe("/dev/session", () => {
  const signIn = (url: string, environment: string, userId = "dev-user") =>
    workerFetch(
      new Request(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ userId }),
      }),
      { ENVIRONMENT: environment },
    );

  it("does not exist in the production configuration", async () => {
    await expectProblem(await call("/dev/session", { method: "POST" }), 404, "not_found");
    await expectProblem(await signIn("http://127.0.0.1/dev/session", "production"), 404, "not_found");
  });

  it("does not exist in development on a non-loopback host", async () => {
    await expectProblem(await signIn("https://keys.vulk.dev/dev/session", "development"), 404, "not_found");
  });

  it("in development on a loopback host it signs a session and sets the cookie", async () => {
    const response = await signIn("http://localhost:8787/dev/session", "development");
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    expect(await verifySession(token, [SECRET])).toMatchObject({ ok: true, userId: "dev-user" });
    const setCookie = response.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toContain(`vulk_session=${token}`);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Secure/);
  });

  it("signs only a user id a session may carry (the rule verifySession applies to sub)", async () => {
    const local = "http://localhost:8787/dev/session";
    for (const userId of ["", "   ", "u".repeat(257), "a\u0000b", "a\nb", "a\u0085b", "a\ud800"]) {
      await expectProblem(await signIn(local, "development", userId), 400, "invalid_request");
    }
    const wide = "😀".repeat(256);
    const response = await signIn(local, "development", wide);
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    expect(await verifySession(token, [SECRET])).toMatchObject({ ok: true, userId: wide });
  });
});

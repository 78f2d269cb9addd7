/** Expiry and disabling after creation (docs/DESIGN.md#lifecycle), under the marker protocol. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { asUser, expectProblem, newUserId } from "../support/http";
import { issueKey, v1 } from "../support/v1";

const DAY = 86_400_000;
const patch = (ownerId: string, id: string, body: unknown) =>
  asUser(ownerId, "PATCH", `/api/keys/${id}`, body);
const record = async (response: Response) =>
  (await response.json()) as {
    enabled: boolean;
    expiresAt: string | null;
    expired: boolean;
    expiring: boolean;
  };

afterEach(() => {
  vi.useRealTimers();
});

describe("disabling a key", () => {
  it("answers 401 key_disabled on the next request, and works again once enabled", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    const disabled = await patch(key.ownerId, key.id, { enabled: false });
    expect((await record(disabled)).enabled).toBe(false);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_disabled");
    // Still listed (it is not revoked), shown as disabled.
    const list = (await (await asUser(key.ownerId, "GET", "/api/keys")).json()) as {
      data: { id: string; enabled: boolean }[];
    };
    expect(list.data).toEqual([expect.objectContaining({ id: key.id, enabled: false })]);
    expect((await record(await patch(key.ownerId, key.id, { enabled: true }))).enabled).toBe(true);
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
  });

  it("a disabled key's requests count against the client, not the key's limit", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], { rateLimit: 10 });
    await patch(key.ownerId, key.id, { enabled: false });
    const ip = "2001:db8:77::1";
    for (let i = 0; i < 12; i++) {
      const refused = await v1(key.key, "/v1/key", { ip });
      expect(refused.headers.get("RateLimit-Policy")).toMatch(/^"ip";/);
    }
    await patch(key.ownerId, key.id, { enabled: true });
    const back = await v1(key.key, "/v1/key");
    expect(back.status).toBe(200);
    expect(back.headers.get("RateLimit")).toMatch(/^"key";r=9;/);
  });

  it("is audited both ways", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    await patch(key.ownerId, key.id, { enabled: false });
    await patch(key.ownerId, key.id, { enabled: true });
    const audit = (await (await asUser(key.ownerId, "GET", "/api/audit")).json()) as {
      data: { action: string; keyId: string }[];
    };
    expect(audit.data.map((e) => e.action).slice(0, 3)).toEqual([
      "key.enabled",
      "key.disabled",
      "key.created",
    ]);
  });
});

describe("expiry after creation", () => {
  it("can be set, extended and cleared; only to the future", async () => {
    const key = await issueKey(newUserId(), ["projects:read"]);
    const inTenDays = new Date(Date.now() + 10 * DAY).toISOString();
    const set = await record(await patch(key.ownerId, key.id, { expiresAt: inTenDays }));
    expect(set).toMatchObject({ expiresAt: inTenDays, expired: false, expiring: false });
    const inThreeDays = new Date(Date.now() + 3 * DAY).toISOString();
    expect(await record(await patch(key.ownerId, key.id, { expiresAt: inThreeDays }))).toMatchObject({
      expiresAt: inThreeDays,
      expiring: true,
    });
    const past = new Date(Date.now() - 1000).toISOString();
    await expectProblem(await patch(key.ownerId, key.id, { expiresAt: past }), 400, "invalid_request");
    expect(await record(await patch(key.ownerId, key.id, { expiresAt: null }))).toMatchObject({
      expiresAt: null,
      expiring: false,
    });
  });

  it("an expired key answers key_expired; extending its expiry brings it back on the next request", async () => {
    const key = await issueKey(newUserId(), ["projects:read"], {
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 120_000);
    await expectProblem(await v1(key.key, "/v1/key"), 401, "key_expired");
    const listed = (await (await asUser(key.ownerId, "GET", "/api/keys")).json()) as {
      data: { expired: boolean }[];
    };
    expect(listed.data[0]?.expired).toBe(true);
    await patch(key.ownerId, key.id, { expiresAt: new Date(Date.now() + DAY).toISOString() });
    expect((await v1(key.key, "/v1/key")).status).toBe(200);
  });
});

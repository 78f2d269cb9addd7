/** GitHub's secret-scanning key list: per-isolate cache, throttled refresh, loading and importing. */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger";
import {
  GithubKeyring,
  KEYS_TTL_MS,
  KeysUnavailableError,
  loadPublicKeys,
  MIN_REFRESH_INTERVAL_MS,
  nextKeyringStep,
  type PublicKeys,
} from "../../src/scanning/github-keys";
import { fixtureHits, setFixtureRoute } from "../support/fixture";
import { createGithubSigner } from "../support/github-scanning";
import { stack } from "../support/stack";

const logger = createLogger({ test: "scanning-keys" });
const T0 = 1_700_000_000_000;

describe("nextKeyringStep (pure)", () => {
  const state = (fetchedAtMs: number | null, lastAttemptMs: number | null, knowsIdentifier: boolean) => ({
    fetchedAtMs,
    lastAttemptMs,
    knowsIdentifier,
  });

  it("nothing fetched yet → refresh; a failure just now → unavailable", () => {
    expect(nextKeyringStep(state(null, null, false), T0)).toBe("refresh");
    expect(nextKeyringStep(state(null, T0, false), T0 + 1000)).toBe("unavailable");
    expect(nextKeyringStep(state(null, T0, false), T0 + MIN_REFRESH_INTERVAL_MS)).toBe("refresh");
  });

  it("a known identifier is served from the cache until the list is an hour old", () => {
    expect(nextKeyringStep(state(T0, T0, true), T0 + KEYS_TTL_MS - 1)).toBe("use_cached");
    expect(nextKeyringStep(state(T0, T0, true), T0 + KEYS_TTL_MS)).toBe("refresh");
  });

  it("an unknown identifier refreshes the list at most once a minute", () => {
    expect(nextKeyringStep(state(T0, T0, false), T0 + 1000)).toBe("unknown");
    expect(nextKeyringStep(state(T0, T0, false), T0 + MIN_REFRESH_INTERVAL_MS)).toBe("refresh");
  });

  it("a stale key is still used while refreshing is throttled (the last refresh failed)", () => {
    const failedJustNow = state(T0, T0 + KEYS_TTL_MS + 1, true);
    expect(nextKeyringStep(failedJustNow, T0 + KEYS_TTL_MS + 2)).toBe("use_cached");
  });
});

describe("GithubKeyring", () => {
  /** A loader serving `lists` in turn (an Error entry fails that load), counting calls. */
  function fakeLoader(...lists: (PublicKeys | Error)[]) {
    let calls = 0;
    const load = async () => {
      const next = lists[Math.min(calls++, lists.length - 1)];
      if (next instanceof Error || next === undefined) throw next ?? new Error("no list");
      return next;
    };
    return { load, calls: () => calls };
  }
  const keyA = {} as CryptoKey;
  const keyB = {} as CryptoKey;

  it("fetches once, then serves known identifiers from memory", async () => {
    const loader = fakeLoader(new Map([["a", keyA]]));
    const keyring = new GithubKeyring("https://keys.test", loader.load);
    expect(await keyring.keyFor("a", T0, logger)).toBe(keyA);
    expect(await keyring.keyFor("a", T0 + 1000, logger)).toBe(keyA);
    expect(loader.calls()).toBe(1);
  });

  it("an unknown identifier refetches once (finding a newly published key), then is throttled", async () => {
    const loader = fakeLoader(
      new Map([["a", keyA]]),
      new Map([
        ["a", keyA],
        ["b", keyB],
      ]),
    );
    const keyring = new GithubKeyring("https://keys.test", loader.load);
    await keyring.keyFor("a", T0, logger);
    expect(await keyring.keyFor("forged", T0 + 1000, logger)).toBeUndefined();
    expect(loader.calls()).toBe(1); // refreshed less than a minute ago: no fetch
    expect(await keyring.keyFor("b", T0 + MIN_REFRESH_INTERVAL_MS, logger)).toBe(keyB);
    expect(loader.calls()).toBe(2);
    expect(await keyring.keyFor("forged", T0 + MIN_REFRESH_INTERVAL_MS + 1000, logger)).toBeUndefined();
    expect(loader.calls()).toBe(2);
  });

  it("when the list cannot be refreshed a cached key still works; without one → KeysUnavailableError", async () => {
    const loader = fakeLoader(new Map([["a", keyA]]), new Error("GitHub is down"));
    const keyring = new GithubKeyring("https://keys.test", loader.load);
    await keyring.keyFor("a", T0, logger);
    expect(await keyring.keyFor("a", T0 + KEYS_TTL_MS, logger)).toBe(keyA);
    expect(loader.calls()).toBe(2);
    await expect(
      keyring.keyFor("b", T0 + KEYS_TTL_MS + MIN_REFRESH_INTERVAL_MS, logger),
    ).rejects.toBeInstanceOf(KeysUnavailableError);
  });

  it("no list at all: the failure is remembered for a minute (no fetch per request)", async () => {
    const loader = fakeLoader(new Error("GitHub is down"));
    const keyring = new GithubKeyring("https://keys.test", loader.load);
    await expect(keyring.keyFor("a", T0, logger)).rejects.toBeInstanceOf(KeysUnavailableError);
    await expect(keyring.keyFor("a", T0 + 1000, logger)).rejects.toBeInstanceOf(KeysUnavailableError);
    expect(loader.calls()).toBe(1);
  });
});

describe("loadPublicKeys (against the fixture server)", () => {
  const url = (path: string) => `${stack.fixtureUrl}${path}`;

  it("imports every usable PEM key and skips the others", async () => {
    const good = await createGithubSigner();
    await setFixtureRoute("/keys/mixed", {
      status: 200,
      body: {
        public_keys: [
          good.published,
          {
            key_identifier: "broken",
            key: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            is_current: false,
          },
        ],
      },
    });
    const keys = await loadPublicKeys(url("/keys/mixed"), logger);
    expect([...keys.keys()]).toEqual([good.identifier]);
    expect(await fixtureHits("/keys/mixed")).toBe(1);
  });

  it.each([
    ["an error status", { status: 500, body: { message: "boom" } }],
    ["a body that is not JSON", { status: 200, body: "<html>" }],
    ["JSON of another shape", { status: 200, body: { keys: [] } }],
    ["no usable key", { status: 200, body: { public_keys: [] } }],
  ])("throws on %s", async (_name, response) => {
    const path = `/keys/bad-${crypto.randomUUID()}`;
    await setFixtureRoute(path, response);
    await expect(loadPublicKeys(url(path), logger)).rejects.toThrow();
  });
});

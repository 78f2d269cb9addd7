/**
 * The local Upstash REST server, driven by the unmodified @upstash/redis and @upstash/ratelimit
 * clients against a real Redis. This file claims its own empty logical database and deletes only
 * the keys it created (all under one run prefix) when done.
 */
import { createHash, randomBytes } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { errors, Redis } from "@upstash/redis/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLoopbackHost } from "../../scripts/local/loopback";
import { connectRedis, ErrorReply, type RawRedis } from "../../scripts/local/redis";
import {
  startUpstashServer,
  stripUpstashScriptFlags,
  type UpstashServer,
} from "../../scripts/local/upstash-server";
import { testStoreUrls } from "../setup/store-urls";
import { until } from "./until";

const REDIS_BASE_URL = testStoreUrls().redisBaseUrl;
const CLAIM_KEY = "__vk_test_claim__";
const RUN_ID = `vk_upstash_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
/** Every key this file creates starts with this, so cleanup can find them all. */
const P = `${RUN_ID}:`;
const TOKEN = randomBytes(16).toString("hex");

let redisUrl: string;
let server: UpstashServer;
let admin: RawRedis;

type RedisOptions = Partial<ConstructorParameters<typeof Redis>[0]>;

function client(opts: RedisOptions = {}): Redis {
  return new Redis({ url: server.url, token: TOKEN, enableTelemetry: false, ...opts });
}

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

/** Claims the first empty logical database 1–15 (SET NX makes the claim race-free). */
async function claimDatabase(): Promise<string> {
  const base = new URL(REDIS_BASE_URL);
  if (!isLoopbackHost(base.hostname))
    throw new Error(`TEST_REDIS_URL must be loopback, not ${base.hostname}`);
  for (let db = 1; db <= 15; db++) {
    base.pathname = `/${db}`;
    const probe = await connectRedis(base.toString());
    try {
      if ((await probe.call(["DBSIZE"])) !== 0) continue;
      if ((await probe.call(["SET", CLAIM_KEY, RUN_ID, "NX", "EX", 600])) === "OK") return base.toString();
    } finally {
      await probe.close();
    }
  }
  throw new Error("no empty Redis logical database (1–15) to claim");
}

/** Waits out the last 2 s of a minute: a sliding-window burst straddling the edge can admit L+1. */
async function avoidMinuteEdge(): Promise<void> {
  const untilNext = 60_000 - (Date.now() % 60_000);
  if (untilNext < 2_000) await new Promise((resolve) => setTimeout(resolve, untilNext + 100));
}

beforeAll(async () => {
  redisUrl = await claimDatabase();
  server = await startUpstashServer({ redisUrl, token: TOKEN });
  admin = await connectRedis(redisUrl);
});

afterAll(async () => {
  await server?.close();
  if (!admin) return;
  let cursor = "0";
  do {
    const reply = await admin.call(["SCAN", cursor, "MATCH", `${P}*`, "COUNT", 1000]);
    if (!Array.isArray(reply)) break;
    const [next, keys] = reply;
    cursor = String(next);
    if (Array.isArray(keys) && keys.length > 0) await admin.call(["DEL", ...(keys as Buffer[])]);
  } while (cursor !== "0");
  if ((await admin.call(["GET", CLAIM_KEY]))?.toString() === RUN_ID) await admin.call(["DEL", CLAIM_KEY]);
  await admin.close();
});

describe("@upstash/redis against the local server", () => {
  it("runs get/set/incr/getex/expire as single commands", async () => {
    const redis = client({ enableAutoPipelining: false });
    server.resetCounts();
    expect(await redis.set(`${P}a`, "hello")).toBe("OK");
    expect(await redis.get(`${P}a`)).toBe("hello");
    expect(await redis.incr(`${P}n`)).toBe(1);
    expect(await redis.incrby(`${P}n`, 41)).toBe(42);
    expect(await redis.getex(`${P}a`, { ex: 100 })).toBe("hello");
    expect(await redis.ttl(`${P}a`)).toBeGreaterThan(90);
    expect(await redis.expire(`${P}n`, 50)).toBe(1);
    expect(await redis.ttl(`${P}n`)).toBeGreaterThan(40);
    expect(await redis.get(`${P}missing`)).toBeNull();
    await redis.set(`${P}obj`, { id: 7, tags: ["x"] });
    expect(await redis.get(`${P}obj`)).toEqual({ id: 7, tags: ["x"] });
    expect(server.counts()).toMatchObject({ "/": 11, "/pipeline": 0, commands: 11 });
  });

  it("counts an auto-pipelined burst as one request per pipeline (read and write)", async () => {
    const redis = client(); // auto-pipelining is on by default
    await redis.set(`${P}ap`, "v");
    server.resetCounts();
    const [got, set] = await Promise.all([redis.get(`${P}ap`), redis.set(`${P}ap2`, "w")]);
    expect([got, set]).toEqual(["v", "OK"]);
    expect(server.counts()).toMatchObject({ "/": 0, "/pipeline": 2, commands: 2 });

    server.resetCounts();
    const burst = await Promise.all([
      redis.getex(`${P}ap`, { ex: 60 }),
      redis.set(`${P}ap3`, "x", { nx: true }),
      redis.incr(`${P}ap4`),
    ]);
    expect(burst).toEqual(["v", "OK", 1]);
    expect(server.counts()).toMatchObject({ "/": 0, "/pipeline": 1, commands: 3 });
  });

  it("runs an explicit pipeline, keeping per-command errors", async () => {
    const redis = client();
    server.resetCounts();
    const results = await redis.pipeline().set(`${P}p`, "text").incr(`${P}pn`).get(`${P}p`).exec();
    expect(results).toEqual(["OK", 1, "text"]);
    const kept = await redis.pipeline().incr(`${P}p`).incr(`${P}pn`).exec({ keepErrors: true });
    expect(kept[0]?.error).toMatch(/ERR value is not an integer/);
    expect(kept[1]).toEqual({ error: undefined, result: 2 });
    expect(server.counts()).toMatchObject({ "/pipeline": 2, commands: 5 });
  });

  it("runs a transaction as MULTI/EXEC, with runtime errors per command", async () => {
    const redis = client();
    server.resetCounts();
    expect(await redis.multi().set(`${P}m`, "1").incr(`${P}m`).get(`${P}m`).exec()).toEqual(["OK", 2, 2]);
    // A runtime error fails only its command (Redis semantics); the client throws on it.
    await expect(redis.multi().set(`${P}m2`, "x").incr(`${P}m2`).exec()).rejects.toThrow(
      /Command 2 \[ incr \] failed: ERR value is not an integer/,
    );
    expect(await redis.get(`${P}m2`)).toBe("x");
    expect(server.counts()).toMatchObject({ "/multi-exec": 2 });
  });

  it("keeps transactions atomic on the shared connection under concurrency", async () => {
    const redis = client({ enableAutoPipelining: false });
    const key = `${P}atomic`;
    const STEPS = 50;
    const transaction = () => {
      const tx = redis.multi();
      for (let i = 0; i < STEPS; i++) tx.incr(key);
      return tx.exec() as Promise<number[]>;
    };
    const work = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? transaction() : redis.incr(key)));
    const results = await Promise.all(work);
    // Each transaction's INCRs must be consecutive: nothing ran in between.
    for (const result of results.filter(Array.isArray)) {
      const first = result[0] ?? 0;
      expect(result).toEqual(Array.from({ length: STEPS }, (_, i) => first + i));
    }
    expect(await redis.get(key)).toBe(10 * STEPS + 30);
  });

  it("surfaces error replies as UpstashError", async () => {
    await client({ enableAutoPipelining: false }).set(`${P}str`, "abc");
    for (const redis of [client({ enableAutoPipelining: false }), client()]) {
      const failure = await redis.incr(`${P}str`).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(errors.UpstashError);
      expect(String(failure)).toMatch(/ERR value is not an integer or out of range/);
    }
  });

  it("round-trips unicode and binary-safe values", async () => {
    const redis = client();
    const text = `héllo wörld — 日本語 🚀🌍 ${String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))}`;
    await redis.set(`${P}uni`, text);
    expect(await redis.get(`${P}uni`)).toBe(text);
    expect(await client({ responseEncoding: false }).get(`${P}uni`)).toBe(text);
    const stored = await admin.call(["GET", `${P}uni`]);
    expect(Buffer.isBuffer(stored) && stored.equals(Buffer.from(text, "utf8"))).toBe(true);

    // Arbitrary bytes (not UTF-8) via a path-style POST body, read back as base64.
    const bytes = randomBytes(512);
    expect((await post(`/set/${P}bin`, bytes)).json).toEqual({ result: "OK" });
    const got = await post("/", JSON.stringify(["GET", `${P}bin`]), { "upstash-encoding": "base64" });
    expect(Buffer.from(String(got.json.result), "base64").equals(bytes)).toBe(true);
  });
});

describe("@upstash/ratelimit against the local server", () => {
  it.each([10, 60])("slidingWindow(%i, 60 s): 3L concurrent limit() admit exactly L", async (limit) => {
    await avoidMinuteEdge();
    const ratelimit = new Ratelimit({
      redis: client(),
      limiter: Ratelimit.slidingWindow(limit, "60 s"),
      prefix: `${P}rl${limit}`,
      ephemeralCache: false,
    });
    server.resetCounts();
    const results = await Promise.all(Array.from({ length: 3 * limit }, () => ratelimit.limit("user-1")));
    expect(results.filter((r) => r.success)).toHaveLength(limit);
    expect(results.every((r) => r.limit === limit)).toBe(true);
    // The first burst after the server starts may need EVALSHA → NOSCRIPT → EVAL (2 pipelines);
    // once the SHA mapping is known, one EVALSHA pipeline carries the whole burst.
    const { "/pipeline": pipelines = 0 } = server.counts();
    expect(pipelines).toBeGreaterThanOrEqual(1);
    expect(pipelines).toBeLessThanOrEqual(2);
    server.resetCounts();
    const again = await Promise.all(Array.from({ length: limit }, () => ratelimit.limit("user-1")));
    expect(again.some((r) => r.success)).toBe(false);
    expect(server.counts()).toMatchObject({ "/pipeline": 1, commands: limit });
  });
});

describe("Lua scripts with Upstash-only shebang flags", () => {
  const script = "#!lua flags=allow-key-locking\nreturn {KEYS[1], ARGV[1], redis.status_reply('OK')}";
  const clientSha = createHash("sha1").update(script).digest("hex");

  it("drops only the Upstash flag and keeps the line count", () => {
    expect(stripUpstashScriptFlags(script)).toBe(
      "#!lua\nreturn {KEYS[1], ARGV[1], redis.status_reply('OK')}",
    );
    expect(stripUpstashScriptFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
    expect(stripUpstashScriptFlags("return 1")).toBe("return 1");
  });

  it("loads under the client's SHA and answers EVALSHA / SCRIPT EXISTS with it", async () => {
    const redis = client({ enableAutoPipelining: false });
    expect(await redis.scriptLoad(script)).toBe(clientSha);
    expect(await redis.scriptExists(clientSha)).toEqual([1]);
    expect(await redis.evalsha(clientSha, [`${P}k`], ["v"])).toEqual([`${P}k`, "v", "OK"]);
    expect(await redis.eval(script, [`${P}k`], ["w"])).toEqual([`${P}k`, "w", "OK"]);
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });
});

describe("bad input", () => {
  it("answers with Upstash-style errors and keeps serving", async () => {
    const cases: [string, string, number, RegExp][] = [
      ["/", '["GET",', 400, /parse/],
      ["/", '{"cmd":"GET"}', 400, /array/],
      ["/", "[]", 400, /non-empty/],
      ["/", '["SET","k",{"a":1}]', 400, /strings or numbers/],
      ["/", '["NOSUCHCOMMAND","x"]', 400, /unknown command/],
      ["/", '["SELECT","3"]', 400, /not available/],
      ["/", '["SUBSCRIBE","ch"]', 400, /not available/],
      ["/", '["BLPOP","k","0"]', 400, /without a timeout/],
      ["/pipeline", '[["GET","k"],"GET"]', 400, /array/],
      ["/multi-exec", '[["INCR","k"],["NOSUCHCOMMAND"]]', 400, /EXECABORT/],
      ["/multi-exec", '[["INCR","k"],["WATCH","k"]]', 400, /not available/],
    ];
    for (const [path, body, status, message] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${body}`).toBe(status);
      expect(String(res.json.error), `${path} ${body}`).toMatch(message);
    }
    expect(await client().ping()).toBe("PONG");
  });

  it("rejects a wrong or missing token with 401", async () => {
    const wrong = await fetch(`${server.url}/`, {
      method: "POST",
      headers: { authorization: "Bearer nope" },
      body: '["PING"]',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: "WRONGPASS invalid or missing auth token" });
    expect((await fetch(`${server.url}/ping`)).status).toBe(401);
    expect(await (await fetch(`${server.url}/ping?_token=${TOKEN}`)).json()).toEqual({ result: "PONG" });
    const redis = new Redis({ url: server.url, token: "nope", enableTelemetry: false });
    await expect(redis.get(`${P}a`)).rejects.toThrow(/WRONGPASS/);
  });

  it("rejects an oversized body with 400 and keeps serving", async () => {
    const small = await startUpstashServer({ redisUrl, token: TOKEN, maxBodyBytes: 1024 });
    try {
      const redis = new Redis({
        url: small.url,
        token: TOKEN,
        enableTelemetry: false,
        retry: { retries: 0 },
      });
      await expect(redis.set(`${P}big`, "x".repeat(2048))).rejects.toThrow(/max request size exceeded/);
      const huge = await fetch(`${small.url}/`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(["SET", `${P}big`, "y".repeat(5 * 1024 * 1024)]),
      });
      expect(huge.status).toBe(400);
      expect(await redis.set(`${P}big`, "small")).toBe("OK");
    } finally {
      await small.close();
    }
  });
});

describe("fault injection and control endpoints", () => {
  it("error mode makes the client throw; none recovers", async () => {
    const redis = client({ retry: { retries: 0 }, enableAutoPipelining: false });
    server.setFault("error");
    try {
      await expect(redis.get(`${P}a`)).rejects.toBeInstanceOf(errors.UpstashError);
    } finally {
      server.setFault("none");
    }
    expect(await redis.set(`${P}f`, "ok")).toBe("OK");
  });

  it("hang mode holds requests until the mode changes or the client gives up", async () => {
    const redis = client({ retry: { retries: 0 }, enableAutoPipelining: false });
    const control = await fetch(`${server.url}/__local/fault`, { method: "POST", body: '{"mode":"hang"}' });
    expect(await control.json()).toEqual({ mode: "hang" });
    const timedOut = client({ retry: { retries: 0 }, signal: () => AbortSignal.timeout(200) });
    await expect(timedOut.get(`${P}a`)).rejects.toThrow(/abort|timeout/i);
    await until(() => server.heldRequests() === 0); // the aborted one is let go
    const held = redis.set(`${P}held`, "1");
    await until(() => server.heldRequests() === 1);
    const state = await fetch(`${server.url}/__local/fault`);
    expect(await state.json()).toEqual({ mode: "hang", held: 1 });
    await fetch(`${server.url}/__local/fault`, { method: "POST", body: '{"mode":"none"}' });
    expect(await held).toBe("OK");
  });

  it("close() ends requests still hanging", async () => {
    const other = await startUpstashServer({ redisUrl, token: TOKEN });
    other.setFault("hang");
    const hanging = fetch(`${other.url}/ping?_token=${TOKEN}`).then(
      () => "answered",
      () => "dropped",
    );
    await until(() => other.heldRequests() === 1);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await hanging).toBe("dropped");
  });

  it("reconnects after Redis drops the shared connection", async () => {
    const redis = client({ enableAutoPipelining: false, retry: { retries: 0 } });
    expect(await redis.set(`${P}rc`, "1")).toBe("OK");
    const ownId = await admin.call(["CLIENT", "ID"]);
    const list = String(await admin.call(["CLIENT", "LIST", "TYPE", "normal"]));
    const db = new URL(redisUrl).pathname.slice(1);
    const victims = [...list.matchAll(/^id=(\d+) .* db=(\d+) /gm)].filter(
      ([, id, inDb]) => inDb === db && Number(id) !== ownId,
    );
    expect(victims.length).toBeGreaterThan(0);
    for (const [, id] of victims) await admin.call(["CLIENT", "KILL", "ID", id ?? ""]);
    // node-redis reconnects by itself: wait (without a timer) until a new connection is in the db.
    const killed = new Set(victims.map(([, id]) => Number(id)));
    const reconnected = async () => {
      const now = String(await admin.call(["CLIENT", "LIST", "TYPE", "normal"]));
      return [...now.matchAll(/^id=(\d+) .* db=(\d+) /gm)].some(
        ([, id, inDb]) => inDb === db && Number(id) !== ownId && !killed.has(Number(id)),
      );
    };
    const deadline = Date.now() + 5000;
    while (!(await reconnected()) && Date.now() < deadline);
    expect(await redis.incr(`${P}rc`)).toBe(2);
  });

  it("serves counters and rejects unknown modes over HTTP", async () => {
    await fetch(`${server.url}/__local/counts/reset`, { method: "POST" });
    await client({ enableAutoPipelining: false }).get(`${P}a`);
    await fetch(`${server.url}/get/${P}a?_token=${TOKEN}`);
    const counts = await (await fetch(`${server.url}/__local/counts`)).json();
    expect(counts).toEqual({ "/": 1, "/pipeline": 0, "/multi-exec": 0, path: 1, commands: 2 });
    const bad = await fetch(`${server.url}/__local/fault`, { method: "POST", body: '{"mode":"explode"}' });
    expect(bad.status).toBe(400);
  });

  it("base64-encodes every result string except a top-level simple-string OK", async () => {
    const b64 = { "upstash-encoding": "base64" };
    expect((await post("/", JSON.stringify(["SET", `${P}e`, "OK"]), b64)).json).toEqual({ result: "OK" });
    expect((await post("/", JSON.stringify(["GET", `${P}e`]), b64)).json).toEqual({ result: "T0s=" });
    expect((await post("/", '["PING"]', b64)).json).toEqual({ result: "UE9ORw==" });
    expect((await post("/", '["PING"]')).json).toEqual({ result: "PONG" });
    const pipeline = await post(
      "/pipeline",
      JSON.stringify([
        ["SET", `${P}e`, "v"],
        ["MGET", `${P}e`, `${P}no`],
      ]),
      b64,
    );
    expect(pipeline.json).toEqual([{ result: "OK" }, { result: ["dg==", null] }]);
    const nested = await post(
      "/",
      JSON.stringify(["EVAL", "return {1, {'a'}, redis.status_reply('OK')}", "0"]),
      b64,
    );
    expect(nested.json).toEqual({ result: [1, ["YQ=="], "T0s="] });
  });

  it("echoes an upstash-sync-token header", async () => {
    const first = await post("/", '["PING"]');
    const second = await post("/", '["PING"]');
    expect(Number(second.headers.get("upstash-sync-token"))).toBeGreaterThan(
      Number(first.headers.get("upstash-sync-token")),
    );
  });

  it("refuses a non-loopback Redis or listen host without connecting", async () => {
    await expect(startUpstashServer({ redisUrl: "redis://10.1.2.3:6379/0", token: "t" })).rejects.toThrow(
      /non-loopback/,
    );
    await expect(startUpstashServer({ redisUrl, token: "t", host: "0.0.0.0" })).rejects.toThrow(
      /non-loopback/,
    );
  });
});

describe("raw Redis access (scripts/local/redis.ts)", () => {
  it("keeps simple strings, bulk strings, integers, nil, errors and nested arrays apart", async () => {
    const [ok, bulk, int, nil, err, nested] = await admin.callMany([
      ["SET", `${P}r`, "OK"],
      ["GET", `${P}r`],
      ["INCRBY", `${P}ri`, -42],
      ["GET", `${P}none`],
      ["INCR", `${P}r`],
      ["EVAL", "return {1, {'a', {}}, redis.status_reply('S'), redis.error_reply('E nested')}", 0],
    ]);
    expect(ok).toBe("OK");
    expect(bulk).toEqual(Buffer.from("OK"));
    expect(int).toBe(-42);
    expect(nil).toBeNull();
    expect(err).toBeInstanceOf(ErrorReply);
    expect((err as ErrorReply).message).toMatch(/^ERR value is not an integer/);
    expect(Array.isArray(nested) && nested.slice(0, 3)).toEqual([1, [Buffer.from("a"), []], "S"]);
    expect(Array.isArray(nested) && nested[3]).toBeInstanceOf(ErrorReply);
  });

  it("runs MULTI … EXEC as one chain and reports queueing errors and EXECABORT as values", async () => {
    const done = await admin.transaction([
      ["SET", `${P}t`, "1"],
      ["INCR", `${P}t`],
    ]);
    expect(done).toEqual(["OK", "QUEUED", "QUEUED", ["OK", 2]]);
    const aborted = await admin.transaction([["INCR", `${P}t`], ["NOSUCHCOMMAND"]]);
    expect(aborted[2]).toBeInstanceOf(ErrorReply);
    expect((aborted.at(-1) as ErrorReply).message).toMatch(/^EXECABORT/);
    expect(await admin.call(["GET", `${P}t`])).toEqual(Buffer.from("2"));
  });
});

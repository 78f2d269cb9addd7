/**
 * Fidelity tests for the local Neon server: the unmodified official HTTP client (`neon()` and
 * drizzle-orm/neon-http, as the Worker uses it) against a scratch PostgreSQL database.
 */
import { randomBytes } from "node:crypto";
import dns from "node:dns";
import net from "node:net";
import { NeonDbError, neon, neonConfig } from "@neondatabase/serverless";
import { DrizzleQueryError, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { bigint, customType, jsonb, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { isLoopbackHost } from "../../scripts/local/loopback";
import { type NeonServer, startNeonServer } from "../../scripts/local/neon-server";
import { withDatabase } from "../../scripts/local/stores";
import { testStoreUrls } from "../setup/store-urls";
import { until } from "./until";

/** The server TEST_DATABASE_URL names (test/setup/store-urls.ts), in a scratch database of this file's own. */
const ADMIN_URL = testStoreUrls().adminUrl;
const DB_NAME = `vk_neon_fidelity_${randomBytes(4).toString("hex")}`;
const DATABASE_URL = withDatabase(ADMIN_URL, DB_NAME);
const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

const users = pgTable("users", {
  id: serial("id").primaryKey(),
  email: text("email").notNull().unique("users_email_key"),
});

const samples = pgTable("samples", {
  id: serial("id").primaryKey(),
  at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
  doc: jsonb("doc").$type<Record<string, unknown>>().notNull(),
  big: bigint("big", { mode: "bigint" }).notNull(),
  blob: bytea("blob").notNull(),
  tags: text("tags").array().notNull(),
});

const SCHEMA = `
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL CONSTRAINT users_email_key UNIQUE);
  CREATE TABLE samples (
    id serial PRIMARY KEY, at timestamptz NOT NULL, doc jsonb NOT NULL, big bigint NOT NULL,
    blob bytea NOT NULL, tags text[] NOT NULL
  );
`;

let server: NeonServer;
const logLines: string[] = [];
const sql = neon(DATABASE_URL);
const db = drizzle(sql);

async function withAdmin(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** A raw POST /sql with the headers the official client sends. */
async function postSql(
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(server.sqlEndpoint, {
    method: "POST",
    body,
    headers: {
      "Neon-Connection-String": DATABASE_URL,
      "Neon-Raw-Text-Output": "true",
      "Neon-Array-Mode": "true",
      ...headers,
    },
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function expectStillServing(): Promise<void> {
  const rows = await sql`SELECT 41 + 1 AS answer`;
  expect(rows).toEqual([{ answer: 42 }]);
}

beforeAll(async () => {
  await withAdmin(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${DB_NAME}`));
  await withAdmin(DATABASE_URL, (c) => c.query(SCHEMA));
  server = await startNeonServer({ log: (line) => logLines.push(line) });
  neonConfig.fetchEndpoint = server.sqlEndpoint;
});

afterAll(async () => {
  await server?.close();
  await withAdmin(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`));
});

beforeEach(() => {
  server.setFault("none");
  server.resetCounts();
});

describe("isLoopbackHost", () => {
  it("accepts only loopback spellings", () => {
    for (const host of [
      "localhost",
      "LOCALHOST",
      "127.0.0.1",
      "127.255.0.9",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    expect(isLoopbackHost("::ffff:127.0.0.1")).toBe(true);
    for (const host of [
      "",
      "10.0.0.1",
      "128.0.0.1",
      "127.0.0.256",
      "127.1",
      "::2",
      "localhost.example",
      "db.example.invalid",
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe("HTTP mode through drizzle-orm/neon-http", () => {
  it("inserts with returning and selects", async () => {
    const [inserted] = await db.insert(users).values({ email: "a@example.test" }).returning();
    expect(inserted).toEqual({ id: expect.any(Number), email: "a@example.test" });
    const rows = await db.select().from(users).where(eq(users.email, "a@example.test"));
    expect(rows).toEqual([inserted]);
  });

  it("surfaces a unique violation as DrizzleQueryError caused by NeonDbError 23505", async () => {
    await db.insert(users).values({ email: "dup@example.test" });
    const error = await rejection(db.insert(users).values({ email: "dup@example.test" }));
    expect(error).toBeInstanceOf(DrizzleQueryError);
    const cause = (error as DrizzleQueryError).cause;
    expect(cause).toBeInstanceOf(NeonDbError);
    expect(cause).toMatchObject({
      code: "23505",
      constraint: "users_email_key",
      table: "users",
      schema: "public",
      severity: "ERROR",
      detail: "Key (email)=(dup@example.test) already exists.",
      message: 'duplicate key value violates unique constraint "users_email_key"',
    });
  });

  it("runs db.batch as one transaction: a failing statement rolls back the earlier ones", async () => {
    await db.insert(users).values({ email: "taken@example.test" });
    const error = await rejection(
      db.batch([
        db.insert(users).values({ email: "batch-first@example.test" }),
        db.insert(users).values({ email: "taken@example.test" }),
      ]),
    );
    expect((error as { cause?: unknown }).cause ?? error).toMatchObject({ code: "23505" });
    const rows = await db.select().from(users).where(eq(users.email, "batch-first@example.test"));
    expect(rows).toEqual([]);
    // setup insert + final select, and the batch itself as a single request
    expect(server.counts()).toEqual({ "POST /sql": 2, "POST /sql batch": 1 });
  });

  it("round-trips timestamptz, jsonb, bigint, bytea and text[]", async () => {
    const value = {
      at: new Date("2024-02-29T23:59:58.123Z"),
      doc: { nested: { list: [1, "two", null], flag: true }, unicode: "żółw ✓" },
      big: 9_007_199_254_740_993n, // beyond Number.MAX_SAFE_INTEGER
      blob: Buffer.from([0, 1, 2, 253, 254, 255]),
      tags: ["plain", "with space", 'quote"s', "comma,here", "", "NULL"],
    };
    const [row] = await db.insert(samples).values(value).returning();
    expect(row).toMatchObject({ ...value, blob: expect.anything() });
    expect(Buffer.from(row?.blob ?? []).equals(value.blob)).toBe(true);
    const [again] = await db
      .select()
      .from(samples)
      .where(eq(samples.id, row?.id ?? -1));
    expect(again).toEqual(row);
  });

  it("honours batch isolation level and read-only headers", async () => {
    const [settings] = await sql.transaction(
      [
        sql`SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro`,
      ],
      { isolationLevel: "Serializable", readOnly: true },
    );
    expect(settings).toEqual([{ iso: "serializable", ro: "on" }]);
    const error = await rejection(
      sql.transaction([sql`INSERT INTO users (email) VALUES ('ro@example.test')`], { readOnly: true }),
    );
    expect(error).toMatchObject({ name: "NeonDbError", code: "25006" });
  });

  it("uses the extended protocol like Neon: several statements in one query are refused", async () => {
    const error = await rejection(sql.query("SELECT 1; SELECT 2"));
    expect(error).toMatchObject({ name: "NeonDbError", code: "42601" });
  });
});

describe("request counting", () => {
  it("counts one neon() query as one POST /sql and one db.batch as one request", async () => {
    await sql`SELECT 1`;
    expect(server.counts()).toEqual({ "POST /sql": 1 });
    await db.batch([db.select().from(users), db.select().from(samples)]);
    expect(server.counts()).toEqual({ "POST /sql": 1, "POST /sql batch": 1 });
  });

  it("exposes counts, reset and faults over HTTP for code running in workerd", async () => {
    await sql`SELECT 1`;
    const counts = await fetch(`${server.url}/__local/counts`).then((r) => r.json());
    expect(counts).toEqual({ "POST /sql": 1 });
    await fetch(`${server.url}/__local/counts/reset`, { method: "POST" });
    expect(server.counts()).toEqual({});
    const fault = await fetch(`${server.url}/__local/fault`, { method: "POST", body: '{"mode":"error"}' });
    expect(await fault.json()).toEqual({ mode: "error" });
    expect(await rejection(sql`SELECT 1`)).toBeInstanceOf(NeonDbError);
    await fetch(`${server.url}/__local/fault`, { method: "POST", body: '{"mode":"none"}' });
    await expectStillServing();
    const bad = await fetch(`${server.url}/__local/fault`, { method: "POST", body: '{"mode":"explode"}' });
    expect(bad.status).toBe(400);
  });
});

describe("bad input", () => {
  it("answers malformed JSON with Neon's 400 error shape", async () => {
    const { status, json } = await postSql("{not json");
    expect(status).toBe(400);
    expect(json.message).toMatch(/^could not parse the HTTP request body: /);
    expect(Object.keys(json)).toEqual(expect.arrayContaining(["code", "constraint", "detail", "severity"]));
    await expectStillServing();
  });

  it("answers a body without a query with 400", async () => {
    for (const body of ["{}", '{"params":[1]}', '{"queries":[{"params":[]}]}', "[]", "null", '{"query":1}']) {
      const { status, json } = await postSql(body);
      expect(status, body).toBe(400);
      expect(json.message).toMatch(/could not parse the HTTP request body/);
    }
    await expectStillServing();
  });

  it("refuses a non-loopback connection string before any network attempt", async () => {
    const lookups = vi.spyOn(dns, "lookup");
    const connects = vi.spyOn(net.Socket.prototype, "connect");
    try {
      const { status, json } = await postSql('{"query":"SELECT 1","params":[]}', {
        "Neon-Connection-String": "postgresql://user:pw@db.example.invalid/neondb?sslmode=require",
      });
      expect(status).toBe(400);
      expect(json.message).toMatch(/loopback/);
      const remote = neon("postgresql://user:pw@db.example.invalid/neondb");
      const error = await rejection(remote`SELECT 1`);
      expect(error).toBeInstanceOf(NeonDbError);
      expect((error as Error).message).toMatch(/loopback/);
      expect(lookups.mock.calls.filter(([host]) => !isLoopbackHost(String(host)))).toEqual([]);
      const targets = connects.mock.calls.map((args) => JSON.stringify(args[0]));
      expect(targets.filter((t) => t.includes("example.invalid"))).toEqual([]);
      // Positive control: the spies do see a lookup + connect made in this process.
      await new Promise<void>((done) => {
        const probe = net.connect(server.port, "localhost");
        probe.on("connect", () => probe.destroy());
        probe.on("error", () => {});
        probe.on("close", () => done());
      });
      expect(lookups).toHaveBeenCalled();
      expect(connects).toHaveBeenCalled();
    } finally {
      lookups.mockRestore();
      connects.mockRestore();
    }
    const viaHostParam = await postSql('{"query":"SELECT 1"}', {
      "Neon-Connection-String": `${DATABASE_URL}?host=db.example.invalid`,
    });
    expect(viaHostParam.status).toBe(400);
  });

  it("answers an oversized body with 413 and keeps serving", async () => {
    const body = JSON.stringify({ query: "SELECT $1::text", params: ["x".repeat(DEFAULT_BODY_LIMIT)] });
    const { status, json } = await postSql(body);
    expect(status).toBe(413);
    expect(json.message).toBe(`request is too large (max is ${DEFAULT_BODY_LIMIT} bytes)`);
    const error = await rejection(sql.query("SELECT $1::text", ["y".repeat(DEFAULT_BODY_LIMIT)]));
    expect((error as Error).message).toMatch(/HTTP status 413/);
    await expectStillServing();
  });

  it("honours a smaller maxBodyBytes", async () => {
    const small = await startNeonServer({ maxBodyBytes: 64 });
    try {
      const res = await fetch(small.sqlEndpoint, {
        method: "POST",
        headers: { "Neon-Connection-String": DATABASE_URL },
        body: JSON.stringify({ query: `SELECT '${"z".repeat(100)}'` }),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ message: "request is too large (max is 64 bytes)" });
    } finally {
      await small.close();
    }
  });

  it("rejects missing headers, bad isolation levels and unknown paths", async () => {
    const missing = await fetch(server.sqlEndpoint, { method: "POST", body: '{"query":"SELECT 1"}' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ message: "invalid header: neon-connection-string" });
    const iso = await postSql('{"queries":[]}', { "Neon-Batch-Isolation-Level": "Chaos" });
    expect(iso).toMatchObject({ status: 400, json: { message: "invalid isolation level" } });
    const unknown = await fetch(`${server.url}/nope`);
    expect(unknown.status).toBe(404);
    await expectStillServing();
  });
});

describe("response shape", () => {
  it("returns Neon's fields, command and rowCount", async () => {
    const { status, json } = await postSql(
      JSON.stringify({ query: "SELECT $1::int AS n, NULL::text AS t FROM users LIMIT 1", params: ["7"] }),
    );
    expect(status).toBe(200);
    expect(json).toMatchObject({ command: "SELECT", rowAsArray: true, rows: [["7", null]] });
    expect(json.rowCount).toBe(1);
    expect(json.fields).toEqual([
      {
        name: "n",
        dataTypeID: 23,
        tableID: 0,
        columnID: 0,
        dataTypeSize: 4,
        dataTypeModifier: -1,
        format: "text",
      },
      {
        name: "t",
        dataTypeID: 25,
        tableID: 0,
        columnID: 0,
        dataTypeSize: -1,
        dataTypeModifier: -1,
        format: "text",
      },
    ]);
  });

  it("refuses typed JSON output (no Neon-Raw-Text-Output: true), which the client never asks for", async () => {
    const { status, json } = await postSql('{"query":"SELECT 1 AS n"}', { "Neon-Raw-Text-Output": "false" });
    expect(status).toBe(400);
    expect(json.message).toMatch(/Neon-Raw-Text-Output: true/);
  });
});

describe("fault modes", () => {
  it('"error" makes the client throw and "none" recovers', async () => {
    server.setFault("error");
    const error = await rejection(sql`SELECT 1`);
    expect(error).toBeInstanceOf(NeonDbError);
    expect((error as Error).message).toMatch(/HTTP status 503/);
    server.setFault("none");
    await expectStillServing();
  });

  it('"hang" holds requests until the client aborts or the mode changes', async () => {
    server.setFault("hang");
    const aborted = await rejection(
      fetch(server.sqlEndpoint, {
        method: "POST",
        headers: { "Neon-Connection-String": DATABASE_URL },
        body: '{"query":"SELECT 1"}',
        signal: AbortSignal.timeout(200),
      }),
    );
    expect((aborted as Error).name).toBe("TimeoutError");
    await until(() => server.heldRequests() === 0); // the aborted one is let go
    const held = sql`SELECT 'resumed' AS state`.then((rows) => rows); // then() sends it (lazy query)
    await until(() => server.heldRequests() === 1);
    server.setFault("none");
    expect(await held).toEqual([{ state: "resumed" }]);
    expect(server.counts()["POST /sql"]).toBe(2);
  });

  it("closes hung sockets on close()", async () => {
    const other = await startNeonServer();
    other.setFault("hang");
    const pending = rejection(
      fetch(other.sqlEndpoint, {
        method: "POST",
        headers: { "Neon-Connection-String": DATABASE_URL },
        body: '{"query":"SELECT 1"}',
      }),
    );
    await until(() => other.heldRequests() === 1);
    await other.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

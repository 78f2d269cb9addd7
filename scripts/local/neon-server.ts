/**
 * Local stand-in for Neon's serverless proxy, so that the unmodified `@neondatabase/serverless`
 * HTTP client (`neon()` / drizzle-orm/neon-http, the only way the Worker reaches Neon) runs
 * against a real PostgreSQL on this machine.
 *
 * - `POST /sql`: Neon's SQL-over-HTTP protocol (single query or batch-as-one-transaction), text
 *   output only (`Neon-Raw-Text-Output: true`, which the official client always sends).
 * - `/__local/*`: request counters and fault injection for tests (./control.ts; not counted).
 *
 * Only loopback upstreams are ever contacted: hosts are checked before any connection attempt.
 * Shapes, messages and limits follow Neon's proxy (proxy/src/serverless in neondatabase/neon).
 *
 * CLI: npx tsx scripts/local/neon-server.ts [--port 4444] [--host 127.0.0.1]
 */
import { realpathSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import type { CustomTypesConfig, DatabaseError, PoolClient, QueryArrayConfig, QueryArrayResult } from "pg";
import pg from "pg";
import { Counters, type FaultMode, FaultSwitch, handleControl, isControlPath } from "./control";
import { isLoopbackHost } from "./loopback";

export type { FaultMode } from "./control";

export interface NeonServer {
  url: string;
  port: number;
  sqlEndpoint: string;
  counts(): Record<string, number>;
  resetCounts(): void;
  setFault(mode: FaultMode): void;
  /** Requests the "hang" fault is holding right now. */
  heldRequests(): number;
  close(): Promise<void>;
}

export interface NeonServerOptions {
  port?: number;
  host?: string;
  maxConnectionsPerDatabase?: number;
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

/** Neon's proxy defaults: sql_over_http_max_request_size_bytes / _max_response_size_bytes. */
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};
/** Keys of Neon's error body besides `message`, in Neon's order. */
const DB_ERROR_FIELDS = [
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "severity",
  "where",
  "table",
  "column",
  "schema",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;
/** Connection-string parameters that would make pg use TLS or read files named by the request. */
const DROPPED_PARAMS = [
  "application_name",
  "ssl",
  "sslmode",
  "sslcert",
  "sslkey",
  "sslrootcert",
  "sslnegotiation",
];

/** Makes pg hand back every value exactly as Postgres sent it (text format). */
const RAW_TEXT_TYPES: CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as unknown as CustomTypesConfig["getTypeParser"],
};

// ---------------------------------------------------------------------------------------------
// Errors and responses

/** An error answered with `status` and Neon's error body (no Postgres fields). */
class NeonHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type ErrorBody = Record<string, string | null>;

/** Neon always sends every key; `code` and `severity` are "" when Postgres was not the source. */
function errorBody(message: string, db?: DatabaseError): ErrorBody {
  const body: ErrorBody = { message };
  for (const key of DB_ERROR_FIELDS) body[key] = db?.[key] ?? null;
  body.code ??= "";
  body.severity ??= "";
  return body;
}

function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof NeonHttpError) return { status: error.status, body: errorBody(error.message) };
  if (error instanceof pg.DatabaseError) return { status: 400, body: errorBody(error.message, error) };
  return { status: 500, body: errorBody(`local Neon server: ${describe(error)}`) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
    "Access-Control-Allow-Origin": "*",
    ...headers,
  });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function splitTarget(target: string | undefined): { path: string; query: string } {
  const raw = target ?? "/";
  const at = raw.indexOf("?");
  return at < 0 ? { path: raw, query: "" } : { path: raw.slice(0, at), query: raw.slice(at + 1) };
}

// ---------------------------------------------------------------------------------------------
// Request body and payload

type Body = { text: string; tooLarge: false } | { text: ""; tooLarge: true };

/** Reads the whole body; past `limit` it keeps draining (so the client sees our answer) but drops bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(header(req, "content-length") ?? 0) > limit;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () =>
      resolveBody(
        tooLarge ? { text: "", tooLarge } : { text: Buffer.concat(chunks).toString("utf8"), tooLarge },
      ),
    );
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("client closed the request before sending its body"));
    });
  });
}

interface QueryData {
  query: string;
  params: (string | null)[];
  arrayMode: boolean | undefined;
}

type Payload = { kind: "single"; query: QueryData } | { kind: "batch"; queries: QueryData[] };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parsePayload(text: string): Payload {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NeonHttpError(400, `could not parse the HTTP request body: ${describe(error)}`);
  }
  // Like Neon's untagged enum: a valid single query wins, then a batch, else a parse error.
  const single = toQueryData(json);
  if (single) return { kind: "single", query: single };
  if (isObject(json) && Array.isArray(json.queries)) {
    const queries = json.queries.map(toQueryData);
    if (queries.every((q) => q !== undefined)) return { kind: "batch", queries };
  }
  throw new NeonHttpError(
    400,
    "could not parse the HTTP request body: data did not match any variant of untagged enum Payload",
  );
}

/** The payload, or the error to answer once headers have been checked (Neon checks those first). */
function payloadOf(body: Body, limit: number): Payload | NeonHttpError {
  if (body.tooLarge) return new NeonHttpError(413, `request is too large (max is ${limit} bytes)`);
  try {
    return parsePayload(body.text);
  } catch (error) {
    return error instanceof NeonHttpError ? error : new NeonHttpError(400, describe(error));
  }
}

function toQueryData(value: unknown): QueryData | undefined {
  if (!isObject(value) || typeof value.query !== "string") return undefined;
  const { params = [], arrayMode = null } = value;
  if (!Array.isArray(params) || (arrayMode !== null && typeof arrayMode !== "boolean")) return undefined;
  return { query: value.query, params: params.map(paramToText), arrayMode: arrayMode ?? undefined };
}

/** Neon's JSON → Postgres text rules: the official client already sends strings and nulls. */
function paramToText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return toPgArrayLiteral(value);
  return JSON.stringify(value);
}

function toPgArrayLiteral(values: unknown[]): string {
  const items = values.map((value) => {
    if (value === null || value === undefined) return "NULL";
    if (Array.isArray(value)) return toPgArrayLiteral(value);
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  });
  return `{${items.join(",")}}`;
}

// ---------------------------------------------------------------------------------------------
// Connection string and transaction headers

/** Validates `Neon-Connection-String` and returns what pg should connect with. */
function upstreamConnectionString(req: IncomingMessage): string {
  const raw = header(req, "neon-connection-string");
  if (!raw) throw new NeonHttpError(400, "invalid header: neon-connection-string");
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new NeonHttpError(400, `invalid connection string: ${describe(error)}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new NeonHttpError(400, "incorrect scheme");
  }
  if (!url.hostname) throw new NeonHttpError(400, "missing hostname");
  // pg lets ?host= override the URL's host, so it must pass the same check.
  for (const host of [
    url.hostname,
    ...url.searchParams.getAll("host"),
    ...url.searchParams.getAll("hostaddr"),
  ]) {
    if (!isLoopbackHost(host)) {
      throw new NeonHttpError(400, `local Neon server only connects to loopback hosts, not "${host}"`);
    }
  }
  if (url.pathname.length <= 1) throw new NeonHttpError(400, "missing database name");
  if (!url.username) throw new NeonHttpError(400, "missing username");
  for (const name of DROPPED_PARAMS) url.searchParams.delete(name);
  return url.toString();
}

interface TxnOptions {
  isolation: string | undefined;
  readOnly: boolean;
  deferrable: boolean;
}

/** As in Neon: only the exact value "true" counts; an unknown isolation level is a 400. */
function txnOptions(req: IncomingMessage): TxnOptions {
  const level = header(req, "neon-batch-isolation-level");
  if (level !== undefined && !(level in ISOLATION_LEVELS)) {
    throw new NeonHttpError(400, "invalid isolation level");
  }
  return {
    isolation: level === undefined ? undefined : ISOLATION_LEVELS[level],
    readOnly: header(req, "neon-batch-read-only") === "true",
    deferrable: header(req, "neon-batch-deferrable") === "true",
  };
}

function isDefaultTxn(txn: TxnOptions): boolean {
  return txn.isolation === undefined && !txn.readOnly && !txn.deferrable;
}

function beginStatement(txn: TxnOptions): string {
  const parts = ["BEGIN"];
  if (txn.isolation) parts.push(`ISOLATION LEVEL ${txn.isolation}`);
  if (txn.readOnly) parts.push("READ ONLY");
  if (txn.deferrable) parts.push("DEFERRABLE");
  return parts.join(" ");
}

/** Neon echoes the batch's transaction settings as response headers. */
function txnResponseHeaders(req: IncomingMessage, txn: TxnOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (txn.readOnly) headers["Neon-Batch-Read-Only"] = "true";
  if (txn.deferrable) headers["Neon-Batch-Deferrable"] = "true";
  const level = header(req, "neon-batch-isolation-level");
  if (level) headers["Neon-Batch-Isolation-Level"] = level;
  return headers;
}

// ---------------------------------------------------------------------------------------------
// Running queries

interface OutputOptions {
  arrayMode: boolean;
}

/** A pooled connection plus whether it may go back to the pool afterwards. */
interface Session {
  client: PoolClient;
  healthy: boolean;
}

async function execute(
  pool: pg.Pool,
  payload: Payload,
  txn: TxnOptions,
  output: OutputOptions,
): Promise<unknown> {
  const session: Session = { client: await pool.connect(), healthy: true };
  try {
    if (payload.kind === "batch") {
      return {
        results: await inTransaction(session, txn, () => runSequentially(session, payload.queries, output)),
      };
    }
    // Neon ignores the Neon-Batch-* headers on single queries; honouring them is harmless (the
    // official client only sends them with batches) and lets callers test read-only behaviour.
    const run = () => runQuery(session, payload.query, output);
    return await (isDefaultTxn(txn) ? run() : inTransaction(session, txn, run));
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) session.healthy = false;
    throw error;
  } finally {
    session.client.release(!session.healthy);
  }
}

async function runSequentially(
  session: Session,
  queries: QueryData[],
  output: OutputOptions,
): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const query of queries) results.push(await runQuery(session, query, output));
  return results;
}

async function inTransaction<T>(session: Session, txn: TxnOptions, work: () => Promise<T>): Promise<T> {
  await session.client.query(beginStatement(txn));
  try {
    const result = await work();
    await session.client.query("COMMIT");
    return result;
  } catch (error) {
    await session.client.query("ROLLBACK").catch(() => {
      session.healthy = false;
    });
    throw error;
  }
}

async function runQuery(session: Session, data: QueryData, output: OutputOptions): Promise<unknown> {
  // Extended protocol, like Neon's proxy: one statement per query, values as text.
  const config: QueryArrayConfig & { queryMode: "extended" } = {
    text: data.query,
    values: data.params,
    rowMode: "array",
    types: RAW_TEXT_TYPES,
    queryMode: "extended",
  };
  const result = await session.client.query(config);
  return formatResult(result, { ...output, arrayMode: data.arrayMode ?? output.arrayMode });
}

/** Neon's result object, keys in Neon's order. */
function formatResult(result: QueryArrayResult, output: OutputOptions) {
  const fields = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: "text",
  }));
  const rows = result.rows.map((row: unknown[]) => formatRow(row, fields, output));
  return {
    rowAsArray: output.arrayMode,
    fields,
    rows,
    command: result.command ?? "",
    rowCount: result.rowCount,
  };
}

/** Values stay Postgres text (or null): the client parses them by `dataTypeID`. */
function formatRow(row: unknown[], fields: { name: string }[], output: OutputOptions) {
  if (output.arrayMode) return row;
  return Object.fromEntries(row.map((value, i) => [fields[i]?.name ?? String(i), value]));
}

// ---------------------------------------------------------------------------------------------
// Upstream pools

class Upstreams {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(
    private readonly max: number,
    private readonly log: (line: string) => void,
  ) {}

  get(connectionString: string): pg.Pool {
    let pool = this.pools.get(connectionString);
    if (!pool) {
      pool = new pg.Pool({ connectionString, max: this.max, allowExitOnIdle: true });
      // An idle client losing its connection emits here; without a listener it would crash us.
      pool.on("error", (error) => this.log(`upstream pool error: ${describe(error)}`));
      this.pools.set(connectionString, pool);
    }
    return pool;
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((pool) => pool.end()));
  }
}

// ---------------------------------------------------------------------------------------------
// Server

export async function startNeonServer(opts: NeonServerOptions = {}): Promise<NeonServer> {
  const host = opts.host ?? "127.0.0.1";
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.log ?? (() => {});
  const counters = new Counters();
  const faults = new FaultSwitch();
  const control = { counters, faults, errorBody: (message: string) => ({ message }), log };
  const upstreams = new Upstreams(opts.maxConnectionsPerDatabase ?? 10, log);
  const sockets = new Set<Duplex>();

  const count = (key: string) => counters.add(key);

  // -- HTTP ---------------------------------------------------------------------------------

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path } = splitTarget(req.url);
    if (isControlPath(path)) return handleControl(req, res, path, control);
    if (path === "/sql" && req.method === "POST") return handleSql(req, res);
    if (path === "/sql" && req.method === "OPTIONS") {
      count("OPTIONS /sql");
      return handlePreflight(res);
    }
    // Neon itself answers 400 "query is not supported" here.
    sendJson(res, 404, { message: "query is not supported" });
  }

  async function handleSql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const payload = payloadOf(await readBody(req, maxBodyBytes), maxBodyBytes);
    count(payload instanceof NeonHttpError || payload.kind === "single" ? "POST /sql" : "POST /sql batch");

    if (!(await passFaults(res))) return;
    let status = 200;
    try {
      // Same precedence as Neon: header problems first, then the body, then Postgres.
      const connectionString = upstreamConnectionString(req);
      const txn = txnOptions(req);
      if (payload instanceof NeonHttpError) throw payload;
      // Neon without this header turns values into typed JSON; nothing here asks for that.
      if (header(req, "neon-raw-text-output") !== "true") {
        throw new NeonHttpError(400, "local Neon server: only Neon-Raw-Text-Output: true is served");
      }
      const output = { arrayMode: header(req, "neon-array-mode") === "true" };
      const result = await execute(upstreams.get(connectionString), payload, txn, output);
      const text = JSON.stringify(result);
      if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) {
        throw new NeonHttpError(507, `response is too large (max is ${MAX_RESPONSE_BYTES} bytes)`);
      }
      sendJson(res, 200, result, payload.kind === "batch" ? txnResponseHeaders(req, txn) : {});
    } catch (error) {
      const answer = errorResponse(error);
      status = answer.status;
      sendJson(res, status, answer.body, status === 413 ? { Connection: "close" } : {});
    }
    log(`POST /sql ${status} ${Date.now() - started}ms`);
  }

  /** Applies the fault mode to an HTTP request; false means it has been dealt with. */
  async function passFaults(res: ServerResponse): Promise<boolean> {
    const verdict = await faults.check(res);
    if (verdict === "gone") return false;
    if (verdict === "error") {
      sendJson(res, 503, errorBody('local Neon server: fault injection (mode "error")'));
      return false;
    }
    return true;
  }

  function handlePreflight(res: ServerResponse): void {
    res.writeHead(200, {
      Allow: "OPTIONS, POST",
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Headers":
        "Authorization, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, Neon-Batch-Read-Only, Neon-Batch-Isolation-Level",
      "Access-Control-Max-Age": "86400",
    });
    res.end();
  }

  // -- Lifecycle ----------------------------------------------------------------------------

  const server = createServer();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handleHttp(req, res).catch((error: unknown) => {
      log(`request failed: ${describe(error)}`);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, errorBody(`local Neon server: ${describe(error)}`));
    });
  });
  server.on("clientError", (error, socket) => {
    log(`client error: ${describe(error)}`);
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", fail);
      ready();
    });
  });
  server.on("error", (error) => log(`server error: ${describe(error)}`));

  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (opts.port ?? 0);
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  const url = `http://${hostInUrl}:${port}`;
  log(`listening on ${url}`);

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      const stopped = new Promise<void>((done) => server.close(() => done()));
      faults.close();
      for (const socket of sockets) socket.destroy();
      await stopped;
      await upstreams.closeAll();
    })();
    return closing;
  }

  return {
    url,
    port,
    sqlEndpoint: `${url}/sql`,
    counts: () => counters.snapshot(),
    resetCounts: () => counters.reset(),
    setFault: (mode) => faults.set(mode),
    heldRequests: () => faults.held,
    close,
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseCliArgs(argv: string[]): NeonServerOptions {
  const options: NeonServerOptions = { port: 4444 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--port" && value) options.port = Number(value);
    else if (flag === "--host" && value) options.host = value;
    else throw new Error(`unknown argument ${flag} (usage: neon-server.ts [--port 4444] [--host 127.0.0.1])`);
    i++;
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseCliArgs(process.argv.slice(2));
  if (options.host && !isLoopbackHost(options.host)) {
    throw new Error("refusing to listen on a non-loopback host");
  }
  const server = await startNeonServer({ ...options, log: (line) => console.log(`[neon] ${line}`) });
  console.log(`Local Neon server: ${server.url}`);
  console.log(`  neonConfig.fetchEndpoint = "${server.sqlEndpoint}"`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main().catch((error: unknown) => {
    console.error(describe(error));
    process.exit(1);
  });
}

/**
 * Local stand-in for Neon's serverless proxy, so that the unmodified `@neondatabase/serverless`
 * client (HTTP `neon()` / drizzle-orm/neon-http, and WebSocket `Pool`) runs against a real
 * PostgreSQL on this machine.
 *
 * - `POST /sql`: Neon's SQL-over-HTTP protocol (single query or batch-as-one-transaction).
 * - WebSocket upgrade on any path with `?address=host:port`: raw bytes piped to that TCP address.
 * - `/__local/*`: request counters and fault injection for tests (not counted themselves).
 *
 * Only loopback upstreams are ever contacted: hosts are checked before any connection attempt.
 * Shapes, messages and limits follow Neon's proxy (proxy/src/serverless in neondatabase/neon).
 *
 * CLI: npx tsx scripts/local/neon-server.ts [--port 4444] [--host 127.0.0.1]
 */
import type { EventEmitter } from "node:events";
import { realpathSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import net from "node:net";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import type { CustomTypesConfig, DatabaseError, PoolClient, QueryArrayConfig, QueryArrayResult } from "pg";
import pg from "pg";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { isLoopbackHost } from "./loopback";

export type FaultMode = "none" | "error" | "hang";

export interface NeonServer {
  url: string;
  port: number;
  sqlEndpoint: string;
  wsProxy: string;
  counts(): Record<string, number>;
  resetCounts(): void;
  setFault(mode: FaultMode): void;
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
const CONTROL_BODY_LIMIT = 4096;
const WS_HIGH_WATER = 1024 * 1024;

const FAULT_MODES: readonly FaultMode[] = ["none", "error", "hang"];
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
  rawText: boolean;
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

function formatRow(row: unknown[], fields: { name: string; dataTypeID: number }[], output: OutputOptions) {
  const values = row.map((value, i) =>
    typeof value === "string" && !output.rawText ? textToJson(value, fields[i]?.dataTypeID ?? 0) : value,
  );
  if (output.arrayMode) return values;
  return Object.fromEntries(values.map((value, i) => [fields[i]?.name ?? String(i), value]));
}

// ---------------------------------------------------------------------------------------------
// Typed JSON output, used only without `Neon-Raw-Text-Output: true` (the official client always
// sends it). Mirrors Neon: bool, int2/int4, finite floats and json/jsonb become JSON values,
// arrays become JSON arrays, everything else stays text.

const OID = { bool: 16, int2: 21, int4: 23, float4: 700, float8: 701, json: 114, jsonb: 3802 } as const;

/** Built-in array type OID → element type OID. Other arrays (e.g. of enums) stay text. */
const ARRAY_ELEMENT: ReadonlyMap<number, number> = new Map([
  [1000, 16],
  [1001, 17],
  [1002, 18],
  [1003, 19],
  [1016, 20],
  [1005, 21],
  [1007, 23],
  [1009, 25],
  [1028, 26],
  [199, 114],
  [143, 142],
  [1021, 700],
  [1022, 701],
  [1014, 1042],
  [1015, 1043],
  [1182, 1082],
  [1183, 1083],
  [1115, 1114],
  [1185, 1184],
  [1187, 1186],
  [1270, 1266],
  [1231, 1700],
  [2951, 2950],
  [3807, 3802],
  [1041, 869],
  [651, 650],
  [1040, 829],
]);

function textToJson(value: string, typeId: number): unknown {
  const element = ARRAY_ELEMENT.get(typeId);
  if (element !== undefined) return parsePgArray(value, element);
  switch (typeId) {
    case OID.bool:
      return value === "t";
    case OID.int2:
    case OID.int4:
      return Number(value);
    case OID.float4:
    case OID.float8: {
      const n = Number(value);
      return Number.isFinite(n) ? n : value; // NaN / ±Infinity stay strings, as in Neon
    }
    case OID.json:
    case OID.jsonb:
      return JSON.parse(value);
    default:
      return value;
  }
}

/** Parses Postgres array text output (`{1,NULL,"a \"b\""}`, nested, optional `[1:2]=` bounds). */
function parsePgArray(text: string, elementType: number): unknown[] {
  let pos = text.startsWith("[") ? text.indexOf("=") + 1 : 0;
  const fail = (): never => {
    throw new Error(`could not parse postgres array: ${text}`);
  };
  const skipSpace = () => {
    while (text[pos] === " ") pos++;
  };
  const readQuoted = (): string => {
    let out = "";
    pos++; // opening quote
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === "\\") pos++;
      out += text[pos] ?? "";
      pos++;
    }
    if (text[pos] !== '"') fail();
    pos++;
    return out;
  };
  const readArray = (): unknown[] => {
    skipSpace();
    if (text[pos] !== "{") fail();
    pos++;
    const items: unknown[] = [];
    skipSpace();
    if (text[pos] === "}") {
      pos++;
      return items;
    }
    for (;;) {
      skipSpace();
      if (text[pos] === "{") items.push(readArray());
      else if (text[pos] === '"') items.push(textToJson(readQuoted(), elementType));
      else {
        const end = text.slice(pos).search(/[,}]/);
        if (end < 0) fail();
        const item = text.slice(pos, pos + end).trim();
        pos += end;
        items.push(item === "NULL" ? null : textToJson(item, elementType));
      }
      skipSpace();
      if (text[pos] === ",") pos++;
      else if (text[pos] === "}") {
        pos++;
        return items;
      } else fail();
    }
  };
  if (pos === 0 && text.startsWith("[")) fail();
  return readArray();
}

// ---------------------------------------------------------------------------------------------
// Shared state: counters, fault gate, upstream pools

class FaultGate {
  mode: FaultMode = "none";
  private readonly waiters = new Set<() => void>();

  set(mode: FaultMode): void {
    this.mode = mode;
    if (mode !== "hang") for (const wake of [...this.waiters]) wake();
  }

  /**
   * Holds a request while the mode is "hang". Resolves true once it is not, or false if the
   * peer went away first (then the caller must not answer).
   */
  async passHang(peer: EventEmitter, isClosed: () => boolean): Promise<boolean> {
    while (this.mode === "hang") {
      if (isClosed()) return false;
      const woke = await new Promise<boolean>((settle) => {
        const finish = (result: boolean) => {
          this.waiters.delete(wake);
          peer.off("close", abort);
          settle(result);
        };
        const wake = () => finish(true);
        const abort = () => finish(false);
        this.waiters.add(wake);
        peer.once("close", abort);
      });
      if (!woke) return false;
    }
    return !isClosed();
  }
}

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
  const counters = new Map<string, number>();
  const faults = new FaultGate();
  const upstreams = new Upstreams(opts.maxConnectionsPerDatabase ?? 10, log);
  const sockets = new Set<Duplex>();
  const wss = new WebSocketServer({ noServer: true });

  const count = (key: string) => counters.set(key, (counters.get(key) ?? 0) + 1);

  // -- HTTP ---------------------------------------------------------------------------------

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path } = splitTarget(req.url);
    if (path.startsWith("/__local/")) return handleControl(req, res, path);
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
      const output = {
        rawText: header(req, "neon-raw-text-output") === "true",
        arrayMode: header(req, "neon-array-mode") === "true",
      };
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
    const open = await faults.passHang(res, () => res.destroyed || res.writableEnded);
    if (!open) return false;
    if (faults.mode === "error") {
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

  async function handleControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === "/__local/counts" && req.method === "GET") return sendJson(res, 200, snapshot());
    if (path === "/__local/counts/reset" && req.method === "POST") {
      counters.clear();
      return sendJson(res, 200, { ok: true });
    }
    if (path === "/__local/fault" && req.method === "POST") {
      const body = await readBody(req, CONTROL_BODY_LIMIT);
      const mode = parseFaultBody(body.text);
      if (!mode) return sendJson(res, 400, { message: `expected {"mode": ${FAULT_MODES.join(" | ")}}` });
      faults.set(mode);
      log(`fault mode: ${mode}`);
      return sendJson(res, 200, { mode });
    }
    sendJson(res, 404, { message: `unknown control endpoint: ${req.method} ${path}` });
  }

  // -- WebSocket ----------------------------------------------------------------------------

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { path, query } = splitTarget(req.url);
    count(`WS ${path}`);
    if (!(await faults.passHang(socket, () => socket.destroyed))) return;
    if (faults.mode === "error") return rejectUpgrade(socket, 503, "local Neon server: fault injection");
    const target = parseAddress(new URLSearchParams(query).get("address"));
    if (typeof target === "string") return rejectUpgrade(socket, 400, target);
    wss.handleUpgrade(req, socket, head, (ws) => tunnel(ws, target));
  }

  function tunnel(ws: WebSocket, target: { host: string; port: number }): void {
    const tcp = net.connect({ host: target.host, port: target.port });
    tcp.setNoDelay(true);
    sockets.add(tcp);
    log(`WS tunnel open to ${target.host}:${target.port}`);

    // Frames carry raw Postgres wire bytes; forward them unchanged, with simple backpressure.
    ws.on("message", (data: RawData) => {
      if (!tcp.write(toBuffer(data))) ws.pause();
    });
    tcp.on("drain", () => ws.resume());
    tcp.on("data", (chunk: Buffer) => {
      ws.send(chunk, { binary: true }, () => {
        if (tcp.isPaused() && ws.bufferedAmount < WS_HIGH_WATER) tcp.resume();
      });
      if (ws.bufferedAmount >= WS_HIGH_WATER) tcp.pause();
    });

    ws.on("close", () => tcp.end()); // lets already-written bytes (e.g. Terminate) reach Postgres
    ws.on("error", (error) => {
      log(`WS error: ${describe(error)}`);
      tcp.destroy();
    });
    tcp.on("error", (error) => log(`WS tunnel upstream error: ${describe(error)}`));
    tcp.on("close", () => {
      sockets.delete(tcp);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      else if (ws.readyState === ws.CONNECTING) ws.terminate();
    });
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
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", (error) => log(`upgrade socket error: ${describe(error)}`));
    handleUpgrade(req, socket, head).catch((error: unknown) => {
      log(`upgrade failed: ${describe(error)}`);
      socket.destroy();
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

  function snapshot(): Record<string, number> {
    return Object.fromEntries(counters);
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      const stopped = new Promise<void>((done) => server.close(() => done()));
      for (const ws of wss.clients) ws.terminate();
      for (const socket of sockets) socket.destroy();
      await stopped;
      await upstreams.closeAll();
      wss.close();
    })();
    return closing;
  }

  return {
    url,
    port,
    sqlEndpoint: `${url}/sql`,
    wsProxy: `${hostInUrl}:${port}/v2`,
    counts: snapshot,
    resetCounts: () => counters.clear(),
    setFault: (mode) => faults.set(mode),
    close,
  };
}

function parseFaultBody(text: string): FaultMode | undefined {
  try {
    const json: unknown = JSON.parse(text);
    const mode = isObject(json) ? json.mode : undefined;
    return FAULT_MODES.find((m) => m === mode);
  } catch {
    return undefined;
  }
}

/** `host:port` as the client sends it (`${host}:${port}`, IPv6 possibly unbracketed); a string is an error. */
function parseAddress(address: string | null): { host: string; port: number } | string {
  if (!address) return "missing ?address=host:port";
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return `invalid address: ${address}`;
  if (!isLoopbackHost(host)) return `local Neon server only connects to loopback hosts, not "${host}"`;
  return { host, port };
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
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
  console.log(`  neonConfig.wsProxy = "${server.wsProxy}"`);
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

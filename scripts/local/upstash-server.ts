/**
 * Local stand-in for the Upstash Redis REST API, in front of a real (loopback) Redis, so the
 * unmodified @upstash/redis and @upstash/ratelimit clients run against it.
 *
 *   POST /            ["SET","k","v"]                 → {"result": …} | 400 {"error": …}
 *   POST /pipeline    [["SET","k","v"],["GET","k"]]  → [{"result": …} | {"error": …}, …]
 *   POST /multi-exec  same shape, run as MULTI … EXEC, one node-redis chain (nothing lands in between)
 *   GET|POST /set/k/v path style (a POST body becomes the last path argument, query pairs follow)
 *
 * Auth: `Authorization: Bearer <token>` or `?_token=`. `Upstash-Encoding: base64` makes every
 * string in a result base64 except a top-level simple-string `OK` (what the client's decoder
 * expects). Control endpoints (./control.ts; no auth, not counted): GET /__local/counts,
 * POST /__local/counts/reset, GET|POST /__local/fault {"mode": "none"|"error"|"hang"}. Counters:
 * requests per endpoint (`/`, `/pipeline`, `/multi-exec`, `path`) and `commands` (a pipeline of 3
 * is 1 request and 3 commands; MULTI/EXEC themselves are not counted).
 *
 * CLI: npx tsx scripts/local/upstash-server.ts --port 8079 --redis redis://127.0.0.1:6379/0 --token t
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { Counters, type FaultMode, FaultSwitch, handleControl, isControlPath } from "./control";
import { isLoopbackHost } from "./loopback";
import { connectRedis, ErrorReply, type RawRedis, type RedisArg, type RedisReply } from "./redis";

export type { FaultMode } from "./control";

export interface UpstashServer {
  url: string;
  port: number;
  token: string;
  counts(): Record<string, number>;
  resetCounts(): void;
  setFault(mode: FaultMode): void;
  /** Requests the "hang" fault is holding right now. */
  heldRequests(): number;
  close(): Promise<void>;
}

export interface UpstashServerOptions {
  redisUrl: string;
  token: string;
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

/** Upstash's documented request limit on Free and Pay-as-you-go databases. */
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const ENDPOINTS = ["/", "/pipeline", "/multi-exec", "path"] as const;
type Endpoint = (typeof ENDPOINTS)[number];
type Arg = RedisArg;

// ---------------------------------------------------------------------------------------------
// Command policy

/** Commands that would break the shared connection, reach other databases, or that Upstash does
 *  not offer over REST. */
const REFUSED = new Set([
  "AUTH",
  "HELLO",
  "RESET",
  "QUIT",
  "SELECT",
  "CLIENT",
  "READONLY",
  "READWRITE",
  "ASKING",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MONITOR",
  "SYNC",
  "PSYNC",
  "REPLCONF",
  "REPLICAOF",
  "SLAVEOF",
  "FAILOVER",
  "SHUTDOWN",
  "DEBUG",
  "CONFIG",
  "MODULE",
  "ACL",
  "CLUSTER",
  "SAVE",
  "BGSAVE",
  "BGREWRITEAOF",
  "SWAPDB",
  "MOVE",
  "MIGRATE",
  "WAIT",
  "WAITAOF",
]);

/** Blocking commands and where their timeout argument sits. */
const BLOCKING_TIMEOUT_INDEX: Record<string, "first" | "last"> = {
  BLPOP: "last",
  BRPOP: "last",
  BRPOPLPUSH: "last",
  BLMOVE: "last",
  BZPOPMIN: "last",
  BZPOPMAX: "last",
  BLMPOP: "first",
  BZMPOP: "first",
};

interface Prepared {
  args: Arg[];
  /** Runs on its own short-lived connection: a blocking command would stall the shared one. */
  blocking: boolean;
  mapReply?: (reply: RedisReply) => RedisReply;
}
type Preparation = Prepared | { refused: string };

const argText = (arg: Arg | undefined): string => (arg === undefined ? "" : arg.toString());

function refusal(name: string, why = "is not available"): { refused: string } {
  return { refused: `ERR Command ${why}: '${name.toLowerCase()}' (local Upstash server)` };
}

/** How long a blocking command may block, in seconds; undefined when it does not block. */
function blockingTimeout(name: string, args: Arg[]): number | undefined {
  if (name === "XREAD" || name === "XREADGROUP") {
    const at = args.findIndex((a, i) => i > 0 && argText(a).toUpperCase() === "BLOCK");
    return at < 0 ? undefined : Number(argText(args[at + 1])) / 1000;
  }
  const where = BLOCKING_TIMEOUT_INDEX[name];
  if (!where) return undefined;
  return Number(argText(where === "first" ? args[1] : args.at(-1)));
}

function hasCopyDbOption(args: Arg[]): boolean {
  return args.some((a, i) => i > 2 && argText(a).toUpperCase() === "DB");
}

// ---------------------------------------------------------------------------------------------
// Scripts: @upstash/ratelimit scripts start with `#!lua flags=allow-key-locking`, an Upstash-only
// flag that Redis 7 rejects. Drop the flag (keeping the line count) and remember which SHA-1 the
// client knows (of its text) and which one Redis knows (of the loaded text).

const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);

export function stripUpstashScriptFlags(script: string): string {
  const lineEnd = script.indexOf("\n");
  const firstLine = lineEnd < 0 ? script : script.slice(0, lineEnd);
  if (!firstLine.startsWith("#!lua")) return script;
  const cr = firstLine.endsWith("\r") ? "\r" : "";
  const tokens = firstLine.slice("#!lua".length).trim().split(/\s+/).filter(Boolean);
  const kept = tokens.flatMap((token) => {
    if (!token.startsWith("flags=")) return [token];
    const flags = token
      .slice("flags=".length)
      .split(",")
      .filter((flag) => flag && !UPSTASH_ONLY_FLAGS.has(flag));
    return flags.length > 0 ? [`flags=${flags.join(",")}`] : [];
  });
  const shebang = ["#!lua", ...kept].join(" ") + cr;
  return lineEnd < 0 ? shebang : shebang + script.slice(lineEnd);
}

const sha1 = (text: string): string => createHash("sha1").update(text, "utf8").digest("hex");

class ScriptRegistry {
  /** client SHA-1 (of the original text) → SHA-1 of the text Redis actually loaded */
  private readonly loaded = new Map<string, string>();

  /** Returns the text to send to Redis and records the SHA mapping if the text changed. */
  rewrite(script: string): { text: string; clientSha: string; redisSha: string } {
    const text = stripUpstashScriptFlags(script);
    const clientSha = sha1(script);
    const redisSha = text === script ? clientSha : sha1(text);
    if (redisSha !== clientSha) this.loaded.set(clientSha, redisSha);
    return { text, clientSha, redisSha };
  }

  /** Unknown SHAs pass through: Redis answers NOSCRIPT and the client falls back to EVAL. */
  translate(sha: string): string {
    return this.loaded.get(sha.toLowerCase()) ?? sha;
  }
}

function prepareScriptCommand(name: string, args: Arg[], scripts: ScriptRegistry): Prepared {
  // Too few arguments: let Redis answer with its own arity error.
  if (args.length < 2) return { args, blocking: false };
  const rest = args.slice(2);
  if (name === "EVAL" || name === "EVAL_RO") {
    const { text } = scripts.rewrite(argText(args[1]));
    return { args: [name, text, ...rest], blocking: false };
  }
  if (name === "EVALSHA" || name === "EVALSHA_RO") {
    return { args: [name, scripts.translate(argText(args[1])), ...rest], blocking: false };
  }
  // SCRIPT subcommands
  const sub = argText(args[1]).toUpperCase();
  if (sub === "LOAD" && args.length === 3) {
    const { text, clientSha, redisSha } = scripts.rewrite(argText(args[2]));
    const mapReply = (reply: RedisReply): RedisReply =>
      Buffer.isBuffer(reply) && reply.toString() === redisSha ? Buffer.from(clientSha) : reply;
    return { args: [name, args[1] ?? "", text], blocking: false, mapReply };
  }
  if (sub === "EXISTS") {
    const shas = args.slice(2).map((sha) => scripts.translate(argText(sha)));
    return { args: [name, args[1] ?? "", ...shas], blocking: false };
  }
  return { args, blocking: false };
}

function prepareCommand(args: Arg[], scripts: ScriptRegistry): Preparation {
  const name = argText(args[0]).toUpperCase();
  if (REFUSED.has(name)) return refusal(name);
  if (name === "COPY" && hasCopyDbOption(args)) return refusal(name, "option DB is not available");
  // Upstash's FLUSHALL empties the database; here that must not reach other logical databases.
  if (name === "FLUSHALL") return { args: ["FLUSHDB", ...args.slice(1)], blocking: false };
  if (["EVAL", "EVAL_RO", "EVALSHA", "EVALSHA_RO", "SCRIPT"].includes(name)) {
    return prepareScriptCommand(name, args, scripts);
  }
  const timeout = blockingTimeout(name, args);
  if (timeout === undefined) return { args, blocking: false };
  if (timeout === 0) return refusal(name, "that blocks without a timeout is not available");
  return { args, blocking: true };
}

// ---------------------------------------------------------------------------------------------
// Request bodies and result encoding

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One command from JSON: a non-empty array of strings, numbers or booleans. The client's
 *  serializer passes booleans through as JSON booleans (`set(k, true)`), so they are accepted. */
function commandFromJson(value: unknown): Arg[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "ERR command must be a non-empty JSON array");
  }
  return value.map((item) => {
    if (typeof item === "string") return item;
    if ((typeof item === "number" && Number.isFinite(item)) || typeof item === "boolean") return String(item);
    throw new HttpError(400, "ERR command arguments must be strings or numbers");
  });
}

function commandsFromJson(value: unknown): Arg[][] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "ERR pipeline body must be a non-empty JSON array of commands");
  }
  return value.map(commandFromJson);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "ERR failed to parse request body as JSON");
  }
}

/** The request target split by hand: WHATWG URL parsing would treat `//x` as a host and drop
 *  `..` segments, both legitimate path-style arguments. */
interface Target {
  pathname: string;
  query: URLSearchParams;
}

function parseTarget(rawUrl: string | undefined): Target {
  const raw = rawUrl ?? "/";
  const q = raw.indexOf("?");
  return {
    pathname: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)),
  };
}

/** Path style: segments, then the POST body (raw bytes), then query pairs except `_token`. */
function commandFromPath(target: Target, body: Buffer): Arg[] {
  let args: Arg[];
  try {
    args = target.pathname.split("/").slice(1).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, "ERR malformed percent-encoding in the request path");
  }
  if (body.length > 0) args.push(body);
  for (const [key, value] of target.query) {
    if (key === "_token") continue;
    args.push(key);
    if (value !== "") args.push(value);
  }
  if (args.length === 0 || args[0] === "") throw new HttpError(400, "ERR empty command");
  return args;
}

/** JSON text of one reply. `top` marks the reply itself (not an element of an array reply). */
function encodeReply(reply: RedisReply, base64: boolean, top: boolean): string {
  if (reply === null) return "null";
  if (typeof reply === "number") return reply.toString();
  if (Array.isArray(reply)) return `[${reply.map((item) => encodeReply(item, base64, false)).join(",")}]`;
  if (Buffer.isBuffer(reply))
    return JSON.stringify(base64 ? reply.toString("base64") : reply.toString("utf8"));
  // The client keeps a top-level "OK" as is and base64-decodes every other string.
  const text = reply instanceof ErrorReply ? reply.message : reply;
  if (!base64 || (top && text === "OK" && !(reply instanceof ErrorReply))) return JSON.stringify(text);
  return JSON.stringify(Buffer.from(text, "utf8").toString("base64"));
}

function encodeItem(reply: RedisReply, base64: boolean): string {
  if (reply instanceof ErrorReply) return JSON.stringify({ error: reply.message });
  return `{"result":${encodeReply(reply, base64, true)}}`;
}

// ---------------------------------------------------------------------------------------------
// Server

interface ReadBodyResult {
  body: Buffer;
  tooLarge: boolean;
}

/** Reads the body; past the limit it keeps draining (so the client sees the 400 instead of a
 *  reset) up to a hard cap, beyond which the connection is dropped. */
function readBody(req: http.IncomingMessage, limit: number): Promise<ReadBodyResult> {
  const hardCap = Math.max(limit * 4, 64 * 1024 * 1024);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > hardCap) req.destroy();
    });
    req.on("end", () => resolve({ body: Buffer.concat(chunks), tooLarge: size > limit }));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("request aborted"));
    });
  });
}

function endpointOf(pathname: string): Endpoint {
  if (pathname === "/" || pathname === "") return "/";
  if (pathname === "/pipeline" || pathname === "/pipeline/") return "/pipeline";
  if (pathname === "/multi-exec" || pathname === "/multi-exec/") return "/multi-exec";
  return "path";
}

function bearerToken(req: http.IncomingMessage, target: Target): string | null {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return match?.[1] ?? target.query.get("_token");
}

function httpHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

class LocalUpstash {
  private readonly scripts = new ScriptRegistry();
  private readonly counters = new Counters([...ENDPOINTS, "commands"]);
  private readonly faults = new FaultSwitch();
  private readonly dedicated = new Set<RawRedis>();
  private shared: Promise<RawRedis> | null = null;
  private syncToken = 0;
  private closing = false;

  constructor(private readonly opts: Required<Omit<UpstashServerOptions, "port" | "host">>) {}

  counts(): Record<string, number> {
    return this.counters.snapshot();
  }

  resetCounts(): void {
    this.counters.reset();
  }

  setFault(mode: FaultMode): void {
    this.faults.set(mode);
  }

  heldRequests(): number {
    return this.faults.held;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.faults.close();
    const shared = this.shared ? await this.shared.catch(() => null) : null;
    const clients = shared ? [shared, ...this.dedicated] : [...this.dedicated];
    await Promise.all(clients.map((client) => client.close()));
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = parseTarget(req.url);
    if (isControlPath(target.pathname)) {
      return handleControl(req, res, target.pathname, {
        counters: this.counters,
        faults: this.faults,
        errorBody: (error) => ({ error }),
        log: this.opts.log,
      });
    }
    const endpoint = endpointOf(target.pathname);
    this.bump(endpoint);
    if (!["GET", "HEAD", "POST", "PUT"].includes(req.method ?? "")) {
      req.resume();
      return this.reply(res, 405, JSON.stringify({ error: "ERR method not allowed" }));
    }
    if (!(await this.passFault(req, res))) return;
    if (bearerToken(req, target) !== this.opts.token) {
      req.resume();
      return this.reply(res, 401, JSON.stringify({ error: "WRONGPASS invalid or missing auth token" }));
    }
    const { body, tooLarge } = await readBody(req, this.opts.maxBodyBytes);
    if (tooLarge) throw new HttpError(400, "ERR max request size exceeded");
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    if (endpoint === "/pipeline") return this.runPipeline(res, commandsFromJson(parseJson(body)), base64);
    if (endpoint === "/multi-exec") return this.runMultiExec(res, commandsFromJson(parseJson(body)), base64);
    const command = endpoint === "/" ? commandFromJson(parseJson(body)) : commandFromPath(target, body);
    return this.runSingle(res, command, base64);
  }

  /** Turns any failure into a JSON error answer; the server never crashes on a request. */
  fail(res: http.ServerResponse, error: unknown): void {
    const status = error instanceof HttpError ? error.status : 500;
    const message = error instanceof Error ? error.message : String(error);
    if (status >= 500) this.opts.log(`upstash-server: ${message}`);
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    this.reply(res, status, JSON.stringify({ error: status >= 500 ? `ERR ${message}` : message }));
  }

  private bump(key: string, by = 1): void {
    this.counters.add(key, by);
  }

  private reply(res: http.ServerResponse, status: number, body: string): void {
    this.syncToken += 1;
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "upstash-sync-token": String(this.syncToken),
    });
    res.end(body);
  }

  private async runSingle(res: http.ServerResponse, command: Arg[], base64: boolean): Promise<void> {
    const prepared = prepareCommand(command, this.scripts);
    if ("refused" in prepared) throw new HttpError(400, prepared.refused);
    const [raw] = await this.execute([prepared]);
    const reply = prepared.mapReply ? prepared.mapReply(raw ?? null) : (raw ?? null);
    if (reply instanceof ErrorReply) return this.reply(res, 400, JSON.stringify({ error: reply.message }));
    this.reply(res, 200, encodeItem(reply, base64));
  }

  /** Independent commands: a refused one gets its own error item, the others still run. */
  private async runPipeline(res: http.ServerResponse, commands: Arg[][], base64: boolean): Promise<void> {
    const preps = commands.map((command) => prepareCommand(command, this.scripts));
    const runnable = preps.filter((p): p is Prepared => !("refused" in p));
    const replies = await this.execute(runnable);
    let next = 0;
    const items = preps.map((p) => {
      if ("refused" in p) return JSON.stringify({ error: p.refused });
      const raw = replies[next++] ?? null;
      return encodeItem(p.mapReply ? p.mapReply(raw) : raw, base64);
    });
    this.reply(res, 200, `[${items.join(",")}]`);
  }

  /** All or nothing: a refused command or a queueing error (EXECABORT) fails the whole request. */
  private async runMultiExec(res: http.ServerResponse, commands: Arg[][], base64: boolean): Promise<void> {
    const preps = commands.map((command) => prepareCommand(command, this.scripts));
    const refused = preps.find((p): p is { refused: string } => "refused" in p);
    if (refused) throw new HttpError(400, refused.refused);
    const runnable = preps as Prepared[];
    const client = await this.sharedClient();
    this.bump("commands", runnable.length);
    // One chain: nothing from other requests can land between MULTI and EXEC.
    const replies = await client.transaction(runnable.map((p) => p.args));
    const exec = replies.at(-1) ?? null;
    if (!Array.isArray(exec)) {
      const queueError = replies.slice(0, -1).find((r): r is ErrorReply => r instanceof ErrorReply);
      const why = exec instanceof ErrorReply ? exec.message : "ERR transaction aborted";
      throw new HttpError(400, queueError ? `${why} (${queueError.message})` : why);
    }
    const items = exec.map((raw, i) => {
      const mapReply = runnable[i]?.mapReply;
      return encodeItem(mapReply ? mapReply(raw) : raw, base64);
    });
    this.reply(res, 200, `[${items.join(",")}]`);
  }

  private async execute(preps: Prepared[]): Promise<RedisReply[]> {
    if (preps.length === 0) return [];
    this.bump("commands", preps.length);
    const commands = preps.map((p) => p.args);
    const shared = await this.sharedClient();
    if (!preps.some((p) => p.blocking)) return shared.callMany(commands);
    const client = await shared.duplicate();
    this.dedicated.add(client);
    try {
      return await client.callMany(commands);
    } finally {
      this.dedicated.delete(client);
      await client.close();
    }
  }

  /** One shared connection (node-redis reconnects it after Redis dropped it); concurrent first
   *  callers share one connection attempt, and a failed attempt is retried by the next caller. */
  private async sharedClient(): Promise<RawRedis> {
    if (this.closing) throw new HttpError(503, "server is closing");
    this.shared ??= connectRedis(this.opts.redisUrl, { reconnect: true, log: this.opts.log });
    const attempt = this.shared;
    try {
      return await attempt;
    } catch (error) {
      if (this.shared === attempt) this.shared = null;
      throw error;
    }
  }

  /** Applies the injected fault. Returns false when the request has been answered (or dropped). */
  private async passFault(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    const verdict = await this.faults.check(res);
    if (verdict === "gone") {
      if (this.closing) res.destroy();
      return false;
    }
    if (verdict === "error") {
      req.resume();
      this.reply(res, 503, JSON.stringify({ error: "Service Unavailable (local fault injection)" }));
      return false;
    }
    return true;
  }
}

export async function startUpstashServer(opts: UpstashServerOptions): Promise<UpstashServer> {
  const redisHost = new URL(opts.redisUrl).hostname;
  if (!isLoopbackHost(redisHost)) throw new Error(`refusing non-loopback Redis host: ${redisHost}`);
  const host = opts.host ?? "127.0.0.1";
  // The control endpoints have no auth, so the server only ever listens on this machine.
  if (!isLoopbackHost(host)) throw new Error(`refusing to listen on non-loopback host: ${host}`);
  const local = new LocalUpstash({
    redisUrl: opts.redisUrl,
    token: opts.token,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    log: opts.log ?? (() => {}),
  });
  // Fail fast when Redis is unreachable rather than on the first request.
  await (await connectRedis(opts.redisUrl)).close();

  const server = http.createServer((req, res) => {
    local.handle(req, res).catch((error: unknown) => local.fail(res, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${httpHost(host)}:${port}`,
    port,
    token: opts.token,
    counts: () => local.counts(),
    resetCounts: () => local.resetCounts(),
    setFault: (mode) => local.setFault(mode),
    heldRequests: () => local.heldRequests(),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await local.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

function cliOptions(argv: string[]): UpstashServerOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] ?? "";
    const value = argv[i + 1];
    if (!flag.startsWith("--") || value === undefined) throw new Error(`bad argument: ${flag}`);
    values.set(flag.slice(2), value);
  }
  const port = values.get("port");
  const maxBody = values.get("max-body-bytes");
  return {
    redisUrl: values.get("redis") ?? "redis://127.0.0.1:6379/0",
    token: values.get("token") ?? "local-upstash-token",
    port: port === undefined ? 8079 : Number(port),
    host: values.get("host") ?? "127.0.0.1",
    ...(maxBody === undefined ? {} : { maxBodyBytes: Number(maxBody) }),
    log: (line) => console.error(line),
  };
}

async function main(): Promise<void> {
  const server = await startUpstashServer(cliOptions(process.argv.slice(2)));
  console.log(server.url);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

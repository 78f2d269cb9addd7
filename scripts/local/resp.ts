/**
 * A small RESP2 client over node:net for the local Upstash stand-in. One socket, replies matched
 * to requests in FIFO order. `callMany` writes several commands in ONE socket write, so a
 * MULTI … EXEC block can never interleave with other callers' commands on the shared socket.
 *
 * Reply types: simple strings are JS strings, bulk strings stay Buffers (binary-safe),
 * integers are numbers (bigint beyond 2^53), nil is null, errors are RespError values (resolved,
 * not thrown: an error reply is a normal answer). Only a broken connection rejects.
 */
import net from "node:net";

export class RespError {
  constructor(readonly message: string) {}
}

export type RespValue = string | Buffer | number | bigint | null | RespError | RespValue[];
export type RespArg = string | Buffer | number;

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** Parses `redis://[user[:password]@]host[:port][/db]`. */
export function parseRedisUrl(url: string): RedisTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") throw new Error(`unsupported Redis URL scheme: ${parsed.protocol}`);
  const dbText = parsed.pathname.replace(/^\//, "") || "0";
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new Error(`invalid Redis database in URL: ${dbText}`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const target: RedisTarget = { host, port: parsed.port ? Number(parsed.port) : 6379, db };
  if (parsed.username) target.username = decodeURIComponent(parsed.username);
  if (parsed.password) target.password = decodeURIComponent(parsed.password);
  return target;
}

const CRLF = Buffer.from("\r\n");

/** Encodes one command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), "utf8");
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

const INCOMPLETE = Symbol("incomplete");
type Parsed = RespValue | { arrayOf: number } | typeof INCOMPLETE;

/**
 * Incremental RESP2 parser. Nested arrays are tracked on a stack, so a reply split across
 * many TCP chunks is never re-parsed from its start.
 */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Chunks held back while an incomplete bulk string waits for `needed` bytes. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private needed = 0;
  private readonly stack: { items: RespValue[]; remaining: number }[] = [];

  constructor(private readonly onReply: (value: RespValue) => void) {}

  push(chunk: Buffer): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.buf.length - this.pos + this.heldBytes < this.needed) return;
    this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.held]);
    this.pos = 0;
    this.held = [];
    this.heldBytes = 0;
    this.needed = 0;
    this.drain();
  }

  private drain(): void {
    for (;;) {
      const item = this.parseOne();
      if (item === INCOMPLETE) return;
      if (item !== null && typeof item === "object" && "arrayOf" in item) {
        if (item.arrayOf < 0) this.emit(null);
        else if (item.arrayOf === 0) this.emit([]);
        else this.stack.push({ items: [], remaining: item.arrayOf });
      } else {
        this.emit(item);
      }
    }
  }

  private emit(value: RespValue): void {
    let current = value;
    for (;;) {
      const top = this.stack.at(-1);
      if (!top) break;
      top.items.push(current);
      top.remaining -= 1;
      if (top.remaining > 0) return;
      this.stack.pop();
      current = top.items;
    }
    this.onReply(current);
  }

  private parseOne(): Parsed {
    const lineEnd = this.buf.indexOf(CRLF, this.pos);
    if (lineEnd < 0) return INCOMPLETE;
    const type = this.buf[this.pos];
    const line = this.buf.toString("utf8", this.pos + 1, lineEnd);
    switch (type) {
      case 0x2b: // '+'
        this.pos = lineEnd + 2;
        return line;
      case 0x2d: // '-'
        this.pos = lineEnd + 2;
        return new RespError(line);
      case 0x3a: // ':'
        this.pos = lineEnd + 2;
        return parseInteger(line);
      case 0x24: // '$'
        return this.parseBulk(lineEnd, parseLength(line));
      case 0x2a: // '*'
        this.pos = lineEnd + 2;
        return { arrayOf: parseLength(line) };
      default:
        throw new Error(`RESP protocol error: unexpected type byte ${String(type)}`);
    }
  }

  private parseBulk(lineEnd: number, length: number): Parsed {
    if (length < 0) {
      this.pos = lineEnd + 2;
      return null;
    }
    const start = lineEnd + 2;
    const end = start + length;
    if (this.buf.length < end + 2) {
      this.needed = end + 2 - this.pos;
      return INCOMPLETE;
    }
    this.pos = end + 2;
    // Copy so a small value does not pin a large socket buffer in memory.
    return Buffer.from(this.buf.subarray(start, end));
  }
}

function parseLength(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < -1) throw new Error(`RESP protocol error: bad length ${text}`);
  return n;
}

function parseInteger(text: string): number | bigint {
  if (!/^-?\d+$/.test(text)) throw new Error(`RESP protocol error: bad integer ${text}`);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

interface Pending {
  count: number;
  replies: RespValue[];
  resolve: (replies: RespValue[]) => void;
  reject: (error: Error) => void;
}

export interface ConnectOptions {
  connectTimeoutMs?: number;
}

export class RespClient {
  private readonly queue: Pending[] = [];
  private readonly parser: RespParser;
  private failure: Error | null = null;
  private readonly closedPromise: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    this.parser = new RespParser((value) => this.onReply(value));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        socket.destroy();
      }
    });
    socket.on("error", (error) => this.fail(error));
    this.closedPromise = new Promise((resolve) => {
      socket.on("close", () => {
        this.fail(new Error("Redis connection closed"));
        resolve();
      });
    });
  }

  /** Connects, authenticates if the URL carries credentials, and SELECTs the URL's database. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<RespClient> {
    const target = parseRedisUrl(url);
    const socket = await openSocket(target.host, target.port, options.connectTimeoutMs ?? 5000);
    const client = new RespClient(socket);
    try {
      if (target.password !== undefined) {
        const auth = target.username ? ["AUTH", target.username, target.password] : ["AUTH", target.password];
        expectOk(await client.call(auth), "AUTH");
      }
      expectOk(await client.call(["SELECT", target.db]), "SELECT");
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return client;
  }

  get closed(): boolean {
    return this.failure !== null;
  }

  async call(args: readonly RespArg[]): Promise<RespValue> {
    const [reply] = await this.callMany([args]);
    return reply ?? null;
  }

  /** Sends all commands in one write; resolves with their replies in order. */
  callMany(commands: readonly (readonly RespArg[])[]): Promise<RespValue[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ count: commands.length, replies: [], resolve, reject });
      this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    });
  }

  async close(): Promise<void> {
    if (!this.socket.destroyed) this.socket.end();
    // Do not wait forever on a peer that never closes its side.
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await this.closedPromise;
    clearTimeout(timer);
  }

  private onReply(value: RespValue): void {
    const head = this.queue[0];
    if (!head) {
      this.fail(new Error("RESP protocol error: reply without a pending request"));
      this.socket.destroy();
      return;
    }
    head.replies.push(value);
    if (head.replies.length < head.count) return;
    this.queue.shift();
    head.resolve(head.replies);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.queue.splice(0)) pending.reject(this.failure);
  }
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out connecting to Redis at ${host}:${port}`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function expectOk(reply: RespValue, what: string): void {
  if (reply !== "OK") {
    const detail = reply instanceof RespError ? reply.message : String(reply);
    throw new Error(`Redis ${what} failed: ${detail}`);
  }
}

/**
 * Raw Redis access for the local tooling, through node-redis (`@redis/client`) over RESP2 — the
 * protocol generation whose reply types Upstash's REST API reports.
 *
 * Replies keep RESP2's types apart: simple strings are JS strings, bulk strings stay Buffers
 * (binary-safe), integers are numbers, nil is null, arrays are arrays, and error replies are
 * `ErrorReply` values — returned, not thrown: an error reply is a normal answer. Only a broken
 * connection rejects. `sendCommand` applies no per-command reply transforms, so what Redis said is
 * what comes back. Integers beyond ±2^53 lose precision here, as they do in the `JSON.parse` of
 * every Upstash JavaScript client.
 */
import { createClient, ErrorReply, RESP_TYPES } from "@redis/client";
import { isLoopbackHost } from "./loopback";

export { ErrorReply };
export type RedisReply = string | Buffer | number | null | ErrorReply | RedisReply[];
export type RedisArg = string | Buffer;

/** Bulk strings as Buffers; everything else keeps node-redis's RESP2 defaults. */
const RAW_TYPES = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

export interface RawRedisOptions {
  connectTimeoutMs?: number;
  /** Reconnect after the connection drops (the shared connection of a server); off for one-shot use. */
  reconnect?: boolean;
  log?: (line: string) => void;
}

export interface RawRedis {
  /** One command. */
  call(args: readonly (RedisArg | number)[]): Promise<RedisReply>;
  /** Several commands written together; every reply in order. */
  callMany(commands: readonly (readonly (RedisArg | number)[])[]): Promise<RedisReply[]>;
  /**
   * `MULTI`, the commands, `EXEC` as one chain on this connection: nothing else sent on it can
   * land in between. Returns every reply: MULTI's, each command's (`QUEUED` or a queueing error),
   * then EXEC's (the array of results, or an error such as EXECABORT).
   */
  transaction(commands: readonly (readonly RedisArg[])[]): Promise<RedisReply[]>;
  /** A new connection to the same database with the same options (e.g. for a blocking command). */
  duplicate(): Promise<RawRedis>;
  close(): Promise<void>;
}

const toArgs = (args: readonly (RedisArg | number)[]): RedisArg[] =>
  args.map((arg) => (typeof arg === "number" ? String(arg) : arg));

/** An error reply as a value; anything else (a lost connection) stays a rejection. */
function settle(result: PromiseSettledResult<unknown>): RedisReply {
  if (result.status === "fulfilled") return result.value as RedisReply;
  if (result.reason instanceof ErrorReply) return result.reason;
  throw result.reason;
}

/** Connects (loopback only) to the database the URL names, e.g. `redis://127.0.0.1:6379/3`. */
export async function connectRedis(url: string, options: RawRedisOptions = {}): Promise<RawRedis> {
  const host = new URL(url).hostname;
  if (!isLoopbackHost(host)) throw new Error(`refusing non-loopback Redis host: ${host}`);
  const client = createClient({
    url,
    RESP: 2,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 5000,
      reconnectStrategy: options.reconnect ? (retries: number) => Math.min(50 * (retries + 1), 500) : false,
    },
  }).withTypeMapping(RAW_TYPES);
  // Without a listener an 'error' event would end the process; reconnects are node-redis's job.
  client.on("error", (error: unknown) => {
    options.log?.(`redis: ${error instanceof Error ? error.message : String(error)}`);
  });
  await client.connect();

  const send = (args: readonly (RedisArg | number)[], chainId?: symbol) =>
    client.sendCommand(toArgs(args), chainId ? { chainId } : undefined);

  return {
    async call(args) {
      const [result] = await Promise.allSettled([send(args)]);
      return settle(result as PromiseSettledResult<unknown>);
    },
    async callMany(commands) {
      // Issued in one tick: node-redis writes them to the socket together.
      return (await Promise.allSettled(commands.map((args) => send(args)))).map(settle);
    },
    async transaction(commands) {
      const chainId = Symbol("MULTI");
      const all = [["MULTI"], ...commands, ["EXEC"]];
      return (await Promise.allSettled(all.map((args) => send(args, chainId)))).map(settle);
    },
    duplicate: () => connectRedis(url, { ...options, reconnect: false }),
    async close() {
      if (!client.isOpen) return;
      // Waits for replies still due, but not forever on a peer that no longer answers.
      const timer = setTimeout(() => client.destroy(), 1000);
      await client.close().catch(() => client.destroy());
      clearTimeout(timer);
    },
  };
}

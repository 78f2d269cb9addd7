/** What the bench says to the running stack: the Worker's HTTP API and the local servers' controls. */
import type { LocalStack } from "../scripts/local/stack";
import { signSession } from "../src/auth/session";
import { lastUsedGateKey } from "../src/keys/keyspace";

export interface CreatedKey {
  id: string;
  key: string;
  rateLimit: number;
}

type Stack = Pick<LocalStack, "url" | "neonUrl" | "upstashUrl" | "upstashToken">;

const TIMEOUT_MS = 15_000;

async function expectStatus(response: Response, status: number, what: string): Promise<Response> {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${await response.text()}`);
  }
  return response;
}

export class BenchClient {
  constructor(
    private readonly stack: Stack,
    private readonly sessionSecret: string,
  ) {}

  get url(): string {
    return this.stack.url;
  }

  /**
   * A session token for any user id, signed here with the Worker's SESSION_SECRET: the bench runs
   * the Worker as production does (no /dev/session, no development access log).
   */
  session(userId: string): Promise<string> {
    return signSession(userId, this.sessionSecret);
  }

  createKeyRequest(session: string, name: string, rateLimit: number): Promise<Response> {
    return fetch(`${this.stack.url}/api/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${session}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name, permissions: ["projects:read"], rateLimit }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  }

  async createKey(session: string, name: string, rateLimit: number): Promise<CreatedKey> {
    const response = await expectStatus(
      await this.createKeyRequest(session, name, rateLimit),
      201,
      "POST /api/keys",
    );
    const body = (await response.json()) as { id: string; key: string; rateLimit: number };
    return { id: body.id, key: body.key, rateLimit: body.rateLimit };
  }

  /** PATCH /api/keys/{id}: a key change (marker protocol, key-hash index). */
  updateKeyRequest(session: string, id: string, change: Record<string, unknown>): Promise<Response> {
    return fetch(`${this.stack.url}/api/keys/${id}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${session}`, "Content-Type": "application/json" },
      body: JSON.stringify(change),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  }

  deleteKeyRequest(session: string, id: string): Promise<Response> {
    return fetch(`${this.stack.url}/api/keys/${id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${session}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  }

  saveProviderKeyRequest(session: string, provider: string, apiKey: string): Promise<Response> {
    return fetch(`${this.stack.url}/api/provider-keys/${provider}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${session}`, "Content-Type": "application/json" },
      body: JSON.stringify({ apiKey }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  }

  /**
   * GET /v1/key with this Authorization value; the body is read so the connection is reusable.
   * `clientIp` is sent as CF-Connecting-IP (wrangler dev sets it only when absent), so a request
   * can come from a failed-auth bucket of its own.
   */
  async callV1(authorization: string | null, path = "/v1/key", clientIp?: string): Promise<number> {
    const headers: Record<string, string> = {};
    if (authorization !== null) headers.Authorization = authorization;
    if (clientIp) headers["CF-Connecting-IP"] = clientIp;
    const response = await fetch(`${this.stack.url}${path}`, {
      headers,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** One Redis command through the local Upstash REST server (counted there: call outside a measurement). */
  async redis(command: (string | number)[]): Promise<unknown> {
    const response = await fetch(this.stack.upstashUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.stack.upstashToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(command),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await expectStatus(response, 200, `Upstash ${command[0]}`);
    return ((await response.json()) as { result: unknown }).result;
  }

  /** Closes the last-used gate of a key (the Worker's once-a-minute `last_used_at` write) for `seconds`. */
  async closeLastUsedGate(keyId: string, seconds = 60): Promise<void> {
    await this.redis(["SET", lastUsedGateKey(keyId), 1, "EX", seconds]);
  }

  async openLastUsedGate(keyId: string): Promise<void> {
    await this.redis(["DEL", lastUsedGateKey(keyId)]);
  }

  /** A local protocol server's counters (scripts/local/control.ts). */
  async counts(server: "neon" | "upstash"): Promise<Record<string, number>> {
    const base = server === "neon" ? this.stack.neonUrl : this.stack.upstashUrl;
    const response = await fetch(`${base}/__local/counts`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return (await response.json()) as Record<string, number>;
  }

  /** HTTP requests served so far by a local protocol server (every counter but Upstash's `commands`). */
  async requestTotal(server: "neon" | "upstash"): Promise<number> {
    return requestsIn(await this.counts(server));
  }

  /**
   * Requests and Redis commands the local Upstash server has served so far: a pipeline of 2 is
   * 1 request and 2 commands, an EVALSHA 1 command.
   */
  async upstashTotals(): Promise<{ requests: number; commands: number }> {
    const counts = await this.counts("upstash");
    return { requests: requestsIn(counts), commands: counts.commands ?? 0 };
  }
}

function requestsIn(counts: Record<string, number>): number {
  return Object.entries(counts)
    .filter(([name]) => name !== "commands")
    .reduce((sum, [, n]) => sum + n, 0);
}

/**
 * What the two local protocol servers (neon-server.ts, upstash-server.ts) share for tests and the
 * bench: request counters, a fault switch, and the control endpoints that expose both over HTTP.
 *
 *   GET  /__local/counts        → {"<counter>": n, …}
 *   POST /__local/counts/reset  → the counters after the reset
 *   GET  /__local/fault         → {"mode": …, "held": <requests held by "hang" now>}
 *   POST /__local/fault         {"mode": "none" | "error" | "hang"} → {"mode": …}
 *
 * Control requests need no auth and are never counted, so the servers listen on loopback only.
 * Errors use the owning server's own body shape (`errorBody`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export const FAULT_MODES = ["none", "error", "hang"] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export const CONTROL_PREFIX = "/__local/";
const CONTROL_BODY_LIMIT = 4096;

/** Named counters. Keys in `initial` are always present (0 until counted); others appear when first counted. */
export class Counters {
  private readonly tally = new Map<string, number>();

  constructor(private readonly initial: readonly string[] = []) {
    this.reset();
  }

  add(key: string, by = 1): void {
    this.tally.set(key, (this.tally.get(key) ?? 0) + by);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.tally);
  }

  reset(): void {
    this.tally.clear();
    for (const key of this.initial) this.tally.set(key, 0);
  }
}

/** What a request should do after the fault switch: go on, answer the simulated outage, or nothing (gone). */
export type FaultVerdict = "pass" | "error" | "gone";

/**
 * The fault switch: "error" makes the server answer its outage status, "hang" holds requests until
 * the mode changes, the client goes away, or the server closes.
 */
export class FaultSwitch {
  private current: FaultMode = "none";
  private closed = false;
  private readonly waiters = new Set<() => void>();

  get mode(): FaultMode {
    return this.current;
  }

  /** Requests held right now by "hang" (tests wait for this instead of sleeping). */
  get held(): number {
    return this.waiters.size;
  }

  set(mode: FaultMode): void {
    this.current = mode;
    if (mode !== "hang") this.wakeAll();
  }

  /** Releases every held request for good (the server is closing): they end as "gone". */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  async check(res: ServerResponse): Promise<FaultVerdict> {
    const gone = () => this.closed || res.destroyed || res.writableEnded;
    while (this.current === "hang" && !gone()) {
      await new Promise<void>((wake) => {
        const done = () => {
          this.waiters.delete(done);
          res.off("close", done);
          wake();
        };
        this.waiters.add(done);
        res.once("close", done);
      });
    }
    if (gone()) return "gone";
    return this.current === "error" ? "error" : "pass";
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export interface Control {
  counters: Counters;
  faults: FaultSwitch;
  /** The owning server's error body for a message (Neon: `{message, …}`, Upstash: `{error}`). */
  errorBody: (message: string) => unknown;
  log?: (line: string) => void;
}

export function isControlPath(path: string): boolean {
  return path.startsWith(CONTROL_PREFIX);
}

/** Answers one control request (`path` without the query string). */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  control: Control,
): Promise<void> {
  const body = await readControlBody(req);
  const route = `${req.method} ${path.replace(/\/$/, "")}`;
  if (route === "GET /__local/counts") return sendJson(res, 200, control.counters.snapshot());
  if (route === "POST /__local/counts/reset") {
    control.counters.reset();
    return sendJson(res, 200, control.counters.snapshot());
  }
  if (route === "GET /__local/fault") {
    return sendJson(res, 200, { mode: control.faults.mode, held: control.faults.held });
  }
  if (route === "POST /__local/fault") {
    const mode = parseMode(body);
    if (!mode) {
      return sendJson(res, 400, control.errorBody(`expected {"mode": ${FAULT_MODES.join(" | ")}}`));
    }
    control.faults.set(mode);
    control.log?.(`fault mode: ${mode}`);
    return sendJson(res, 200, { mode });
  }
  sendJson(res, 404, control.errorBody(`unknown control endpoint: ${route}`));
}

function parseMode(body: string | undefined): FaultMode | undefined {
  if (body === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(body);
    const mode = typeof json === "object" && json !== null ? (json as { mode?: unknown }).mode : undefined;
    return FAULT_MODES.find((m) => m === mode);
  } catch {
    return undefined;
  }
}

/** The body as text, or undefined past the limit (drained either way, so the client sees the answer). */
function readControlBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= CONTROL_BODY_LIMIT) chunks.push(chunk);
    });
    req.on("end", () =>
      resolve(size <= CONTROL_BODY_LIMIT ? Buffer.concat(chunks).toString("utf8") : undefined),
    );
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

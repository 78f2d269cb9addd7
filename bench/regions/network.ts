/**
 * The simulated network between one region and the stores (docs/SCALING.md#the-simulator): every
 * `fetch` of this thread to a known store origin waits half the round trip before it is sent and
 * half after it is answered, and a link that is cut never answers (the client's own deadline ends
 * it, as in a partition). Counts Upstash requests and commands per store on the way.
 */

export interface Link {
  /** e.g. http://127.0.0.1:40123 */
  origin: string;
  rttMs: number;
  /** `upstash`: count requests and commands; `neon`: requests. */
  kind: "upstash" | "neon";
}

export interface Traffic {
  upstashRequests: number;
  upstashCommands: number;
  neonRequests: number;
}

/** This thread's own fetch, whatever Network is installed (and re-installed) over it. */
const directFetch = globalThis.fetch;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Commands in an Upstash REST body: a pipeline is one request of n commands (EVALSHA counts as one). */
function commandsIn(path: string, body: unknown): number {
  if (path === "/pipeline" || path === "/multi-exec") {
    if (typeof body !== "string") return 1;
    const parsed: unknown = JSON.parse(body);
    return Array.isArray(parsed) ? parsed.length : 1;
  }
  return 1;
}

/** Held until the request's signal aborts: a cut link answers nothing. */
function never(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(signal?.reason ?? new Error("link cut"));
    if (signal?.aborted) fail();
    else signal?.addEventListener("abort", fail, { once: true });
  });
}

export class Network {
  readonly traffic: Traffic = { upstashRequests: 0, upstashCommands: 0, neonRequests: 0 };
  private readonly links = new Map<string, Link>();
  private readonly cut = new Set<string>();

  constructor(links: readonly Link[]) {
    for (const link of links) this.links.set(link.origin, link);
  }

  setCut(origins: readonly string[], isCut: boolean): void {
    for (const origin of origins) {
      if (isCut) this.cut.add(origin);
      else this.cut.delete(origin);
    }
  }

  resetTraffic(): void {
    Object.assign(this.traffic, { upstashRequests: 0, upstashCommands: 0, neonRequests: 0 });
  }

  /** Replaces this thread's global `fetch`: the store clients (Upstash, Neon) all call it. */
  install(): void {
    const direct = directFetch;
    globalThis.fetch = async (input: Request | string | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const link = this.links.get(url.origin);
      if (!link || url.pathname.startsWith("/__local/")) return direct(input, init);
      if (link.kind === "upstash") {
        this.traffic.upstashRequests += 1;
        this.traffic.upstashCommands += commandsIn(url.pathname, init?.body);
      } else {
        this.traffic.neonRequests += 1;
      }
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
      if (this.cut.has(link.origin)) return never(signal);
      await sleep(link.rttMs / 2);
      if (this.cut.has(link.origin)) return never(signal);
      const response = await direct(input, init);
      const body = await response.arrayBuffer();
      await sleep(link.rttMs / 2);
      return new Response(body, { status: response.status, headers: response.headers });
    };
  }
}

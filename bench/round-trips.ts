/**
 * Round trips per request, read from the local servers' request counters (`GET /__local/counts`):
 * HTTP requests served by the Neon and Upstash stand-ins (and the fake providers), and the Redis
 * commands those Upstash requests carried, while one request to the Worker ran — including work it
 * left to `ctx.waitUntil`.
 */
import { generateKey } from "../src/keys/token";
import type { BenchClient } from "./client";
import { max, median, min, sleep } from "./stats";

export interface RoundTripCase {
  name: string;
  /** What docs/DESIGN.md#the-key-check asks for, where it says. */
  target: string;
  status: number[];
  neon: number[];
  upstash: number[];
  upstashCommands: number[];
  provider?: number[];
}

export interface RoundTripSummary {
  name: string;
  target: string;
  status: string;
  neon: { median: number; min: number; max: number };
  upstash: { median: number; min: number; max: number };
  upstashCommands: { median: number; min: number; max: number };
  provider?: { median: number; min: number; max: number };
  samples: number;
}

const spread = (values: number[]) => ({ median: median(values), min: min(values), max: max(values) });

export function summarise(c: RoundTripCase): RoundTripSummary {
  return {
    name: c.name,
    target: c.target,
    status: [...new Set(c.status)].join("/"),
    neon: spread(c.neon),
    upstash: spread(c.upstash),
    upstashCommands: spread(c.upstashCommands),
    ...(c.provider ? { provider: spread(c.provider) } : {}),
    samples: c.status.length,
  };
}

interface Counters {
  neon: number;
  upstash: number;
  upstashCommands: number;
  provider: number;
}

export class RoundTrips {
  constructor(
    private readonly client: BenchClient,
    private readonly providerRequests: () => Promise<number>,
  ) {}

  private async counters(): Promise<Counters> {
    const [neon, upstash, provider] = await Promise.all([
      this.client.requestTotal("neon"),
      this.client.upstashTotals(),
      this.providerRequests(),
    ]);
    return { neon, upstash: upstash.requests, upstashCommands: upstash.commands, provider };
  }

  /**
   * Runs `action` and returns what the servers served meanwhile. Work the Worker left to waitUntil
   * can land after the response, so the counters are read until they stop moving (bounded).
   */
  async measure<T = number>(action: () => Promise<T>): Promise<{ status: T } & Counters> {
    const before = await this.counters();
    const status = await action();
    let after = await this.counters();
    const deadline = Date.now() + 3000;
    for (let quiet = 0; quiet < 3 && Date.now() < deadline; ) {
      await sleep(100);
      const now = await this.counters();
      const moved =
        now.neon !== after.neon ||
        now.upstash !== after.upstash ||
        now.upstashCommands !== after.upstashCommands ||
        now.provider !== after.provider;
      quiet = moved ? 0 : quiet + 1;
      after = now;
    }
    return {
      status,
      neon: after.neon - before.neon,
      upstash: after.upstash - before.upstash,
      upstashCommands: after.upstashCommands - before.upstashCommands,
      provider: after.provider - before.provider,
    };
  }

  /** Runs `action` `samples` times (each with its own setup) into one case. */
  async collect(
    name: string,
    target: string,
    samples: number,
    run: (sample: number) => Promise<{ status: number } & Counters>,
    { withProvider = false } = {},
  ): Promise<RoundTripCase> {
    const c: RoundTripCase = {
      name,
      target,
      status: [],
      neon: [],
      upstash: [],
      upstashCommands: [],
      ...(withProvider ? { provider: [] } : {}),
    };
    for (let i = 0; i < samples; i++) {
      const m = await run(i);
      c.status.push(m.status);
      c.neon.push(m.neon);
      c.upstash.push(m.upstash);
      c.upstashCommands.push(m.upstashCommands);
      c.provider?.push(m.provider);
    }
    return c;
  }
}

/** The whole round-trip section: one user, fresh keys, gates closed where the case needs it. */
export async function measureRoundTrips(
  client: BenchClient,
  providerRequests: () => Promise<number>,
  samples = 5,
): Promise<RoundTripSummary[]> {
  const rt = new RoundTrips(client, providerRequests);
  const session = await client.session("bench-round-trips");
  const auth = (key: string) => `Bearer ${key}`;

  // Scripts loaded first: the limiter's EVALSHA falls back to EVAL (a second request) only once.
  const warmup = await client.createKey(session, "warm-up", 60);
  await client.closeLastUsedGate(warmup.id);
  await client.callV1(auth(warmup.key));
  await client.callV1("Bearer vk_sk_warmup");

  const created: { id: string; key: string }[] = [];
  const cases: RoundTripCase[] = [];
  cases.push(
    await rt.collect("key create (POST /api/keys)", "", samples, async (i) => {
      let key: { id: string; key: string } | undefined;
      const m = await rt.measure(async () => {
        const response = await client.createKeyRequest(session, `rt-${i}`, 60);
        if (response.status === 201) key = (await response.json()) as { id: string; key: string };
        return response.status;
      });
      if (key) created.push(key);
      return m;
    }),
  );
  // One /v1 call of key i, the last-used write kept out of the count.
  const callWithGateClosed = async (i: number) => {
    const key = created[i] as { id: string; key: string };
    await client.closeLastUsedGate(key.id);
    return rt.measure(() => client.callV1(auth(key.key)));
  };
  cases.push(
    await rt.collect(
      "/v1 cold key (first call in this isolate)",
      "1 Upstash + 1 Neon",
      created.length,
      callWithGateClosed,
    ),
  );
  cases.push(
    await rt.collect("/v1 warm key", "1 Upstash (≤ 2 commands) + 0 Neon", created.length, callWithGateClosed),
  );
  cases.push(
    await rt.collect(
      "/v1 warm key, last-used gate open (the once-a-minute write)",
      "1 Upstash + 1 Neon (waitUntil)",
      created.length,
      async (i) => {
        const key = created[i] as { id: string; key: string };
        await client.openLastUsedGate(key.id);
        return rt.measure(() => client.callV1(auth(key.key)));
      },
    ),
  );
  cases.push(
    await rt.collect("key change (PATCH /api/keys/{id})", "", created.length, (i) =>
      rt.measure(async () => {
        const key = created[i] as { id: string };
        const response = await client.updateKeyRequest(session, key.id, { name: `rt-${i}-renamed` });
        await response.arrayBuffer();
        return response.status;
      }),
    ),
  );
  cases.push(
    await rt.collect(
      "/v1 first call after a key change (marker moved)",
      "1 Upstash + 1 Neon",
      created.length,
      callWithGateClosed,
    ),
  );
  cases.push(
    await rt.collect("/v1 malformed key", "0 Neon (1 Upstash: failed-auth limit)", samples, (i) =>
      rt.measure(() => client.callV1(i % 2 ? "Bearer vk_sk_not-a-key" : `Bearer vk_sk_${"A".repeat(38)}`)),
    ),
  );
  cases.push(
    await rt.collect(
      "/v1 unknown key (well-formed), client under its failed-auth limit",
      "1 Upstash + 1 Neon",
      samples,
      (i) => rt.measure(() => client.callV1(auth(generateKey()), "/v1/key", clientAddress(0xa, i))),
    ),
  );
  cases.push(
    await rt.collect(
      "/v1 unknown key (well-formed), client over its failed-auth limit",
      "1 Upstash (the key-hash index) + 0 Neon",
      samples,
      async (i) => {
        const ip = clientAddress(0xb, i);
        await exceedFailedAuthLimit(client, ip);
        return rt.measure(() => client.callV1(auth(generateKey()), "/v1/key", ip));
      },
    ),
  );
  // 429: a fresh key at the lowest limit, spent, then one more (limiter asked) and another
  // (answered from the limiter's ephemeral cache in this isolate).
  const over: RoundTripCase = {
    name: "/v1 429 (first over the limit)",
    // After the answer: the account window gives back its count and the usage moves to `limited`.
    target: "1 Upstash + 0 Neon, +1 after the answer",
    status: [],
    neon: [],
    upstash: [],
    upstashCommands: [],
  };
  const blocked: RoundTripCase = {
    name: "/v1 429 (already blocked in this isolate)",
    target: "1 Upstash + 0 Neon",
    status: [],
    neon: [],
    upstash: [],
    upstashCommands: [],
  };
  for (let i = 0; i < samples; i++) {
    const key = await client.createKey(session, `rt-429-${i}`, 10);
    await client.closeLastUsedGate(key.id, 120);
    for (let n = 0; n < 10; n++) await client.callV1(auth(key.key));
    for (const [c, m] of [
      [over, await rt.measure(() => client.callV1(auth(key.key)))],
      [blocked, await rt.measure(() => client.callV1(auth(key.key)))],
    ] as const) {
      c.status.push(m.status);
      c.neon.push(m.neon);
      c.upstash.push(m.upstash);
      c.upstashCommands.push(m.upstashCommands);
    }
  }
  cases.push(over, blocked);
  cases.push(
    await rt.collect("key delete (DELETE /api/keys/{id})", "", created.length, (i) =>
      rt.measure(
        async () => (await client.deleteKeyRequest(session, (created[i] as { id: string }).id)).status,
      ),
    ),
  );
  const providers = ["openai", "anthropic", "gemini", "deepseek", "groq", "mistral", "together", "fireworks"];
  cases.push(
    await rt.collect(
      "provider-key save (PUT /api/provider-keys/{provider})",
      "",
      Math.min(samples, providers.length),
      (i) =>
        rt.measure(async () => {
          const response = await client.saveProviderKeyRequest(
            session,
            providers[i] as string,
            `sk-good-bench-${i}-${"x".repeat(40)}`,
          );
          await response.arrayBuffer();
          return response.status;
        }),
      { withProvider: true },
    ),
  );
  return cases.map(summarise);
}

/** The failed-auth limit per client bucket and minute (docs/DESIGN.md#failed-authentication). */
const FAILED_AUTH_LIMIT = 30;

/** A client address in its own failed-auth bucket (its own /64 in the documentation range). */
function clientAddress(group: number, i: number): string {
  return `2001:db8:${group.toString(16)}:${i.toString(16)}::1`;
}

/** Malformed keys from `ip` until the Worker answers 429: they cost no Neon query. */
async function exceedFailedAuthLimit(client: BenchClient, ip: string): Promise<void> {
  for (let n = 0; n <= FAILED_AUTH_LIMIT + 5; n++) {
    if ((await client.callV1("Bearer vk_sk_not-a-key", "/v1/key", ip)) === 429) return;
  }
  throw new Error(`failed-auth limit not reached for ${ip}`);
}

export interface UnknownKeysFigure {
  clients: "under their failed-auth limit" | "over their failed-auth limit";
  keys: number;
  addresses: number;
  neon: number;
  upstash: number;
  upstashCommands: number;
  statuses: Record<string, number>;
  seconds: number;
}

/**
 * N distinct well-formed unknown keys (valid checksum, never issued) from many client addresses:
 * how many Neon queries they cost, for clients under their failed-auth limit and for clients this
 * isolate has already seen over it (only those consult the key-hash index, docs/DESIGN.md#the-key-check).
 */
export async function unknownKeysAtScale(
  client: BenchClient,
  providerRequests: () => Promise<number>,
  keys = 300,
  inFlight = 8,
): Promise<UnknownKeysFigure[]> {
  const rt = new RoundTrips(client, providerRequests);
  const figures: UnknownKeysFigure[] = [];
  // Under the limit: 10 keys per address, well below 30 failed authentications a minute.
  const under = Array.from({ length: keys }, (_, i) => clientAddress(0xc, Math.floor(i / 10)));
  // Over the limit: each address first exceeds it (malformed keys, no Neon), then sends its keys.
  const overAddresses = Array.from({ length: 10 }, (_, a) => clientAddress(0xd, a));
  // An isolate's block ends with the limiter's window: keep both parts inside one minute.
  const into = Date.now() % 60_000;
  if (60_000 - into < 40_000) await sleep(60_000 - into + 1000);
  for (const ip of overAddresses) await exceedFailedAuthLimit(client, ip);
  const over = Array.from({ length: keys }, (_, i) => overAddresses[i % overAddresses.length] as string);

  for (const [clients, addresses] of [
    ["under their failed-auth limit", under],
    ["over their failed-auth limit", over],
  ] as const) {
    const started = Date.now();
    const m = await rt.measure(async () => {
      const statuses: Record<string, number> = {};
      let next = 0;
      const worker = async () => {
        while (next < addresses.length) {
          const ip = addresses[next++] as string;
          const status = await client.callV1(`Bearer ${generateKey()}`, "/v1/key", ip);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      return statuses;
    });
    figures.push({
      clients,
      keys: addresses.length,
      addresses: new Set(addresses).size,
      neon: m.neon,
      upstash: m.upstash,
      upstashCommands: m.upstashCommands,
      statuses: m.status,
      seconds: (Date.now() - started) / 1000,
    });
  }
  return figures;
}

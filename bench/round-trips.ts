/**
 * Round trips per request, read from the local servers' request counters (`GET /__local/counts`):
 * HTTP requests served by the Neon and Upstash stand-ins (and the fake providers) while one request
 * to the Worker ran, including work it left to `ctx.waitUntil`.
 */
import type { BenchClient } from "./client";
import { max, median, min, sleep } from "./stats";

export interface RoundTripCase {
  name: string;
  /** What docs/DESIGN.md#the-key-check asks for, where it says. */
  target: string;
  status: number[];
  neon: number[];
  upstash: number[];
  provider?: number[];
}

export interface RoundTripSummary {
  name: string;
  target: string;
  status: string;
  neon: { median: number; min: number; max: number };
  upstash: { median: number; min: number; max: number };
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
    ...(c.provider ? { provider: spread(c.provider) } : {}),
    samples: c.status.length,
  };
}

interface Counters {
  neon: number;
  upstash: number;
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
      this.client.requestTotal("upstash"),
      this.providerRequests(),
    ]);
    return { neon, upstash, provider };
  }

  /**
   * Runs `action` and returns what the servers served meanwhile. Work the Worker left to waitUntil
   * can land after the response, so the counters are read until they stop moving (bounded).
   */
  async measure(action: () => Promise<number>): Promise<{ status: number } & Counters> {
    const before = await this.counters();
    const status = await action();
    let after = await this.counters();
    const deadline = Date.now() + 3000;
    for (let quiet = 0; quiet < 3 && Date.now() < deadline; ) {
      await sleep(100);
      const now = await this.counters();
      const moved =
        now.neon !== after.neon || now.upstash !== after.upstash || now.provider !== after.provider;
      quiet = moved ? 0 : quiet + 1;
      after = now;
    }
    return {
      status,
      neon: after.neon - before.neon,
      upstash: after.upstash - before.upstash,
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
      ...(withProvider ? { provider: [] } : {}),
    };
    for (let i = 0; i < samples; i++) {
      const m = await run(i);
      c.status.push(m.status);
      c.neon.push(m.neon);
      c.upstash.push(m.upstash);
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
  cases.push(
    await rt.collect(
      "/v1 cold key (first call in this isolate)",
      "1 Upstash + 1 Neon",
      created.length,
      async (i) => {
        const key = created[i] as { id: string; key: string };
        await client.closeLastUsedGate(key.id);
        return rt.measure(() => client.callV1(auth(key.key)));
      },
    ),
  );
  cases.push(
    await rt.collect("/v1 warm key", "1 Upstash + 0 Neon", created.length, async (i) => {
      const key = created[i] as { id: string; key: string };
      await client.closeLastUsedGate(key.id);
      return rt.measure(() => client.callV1(auth(key.key)));
    }),
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
    await rt.collect("/v1 malformed key", "0 Neon (1 Upstash: failed-auth limit)", samples, (i) =>
      rt.measure(() => client.callV1(i % 2 ? "Bearer vk_sk_not-a-key" : `Bearer vk_sk_${"A".repeat(38)}`)),
    ),
  );
  // 429: a fresh key at the lowest limit, spent, then one more (limiter asked) and another
  // (answered from the limiter's ephemeral cache in this isolate).
  const over: RoundTripCase = {
    name: "/v1 429 (first over the limit)",
    target: "1 Upstash + 0 Neon",
    status: [],
    neon: [],
    upstash: [],
  };
  const blocked: RoundTripCase = {
    name: "/v1 429 (already blocked in this isolate)",
    target: "1 Upstash + 0 Neon",
    status: [],
    neon: [],
    upstash: [],
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

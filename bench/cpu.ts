/**
 * In-process microbenchmarks (Node's WebCrypto: the same `crypto.subtle` API the Worker calls):
 * - the /v1 verify decision without I/O: parseKey (shape + CRC-32 checksum) + SHA-256 (hashKey) +
 *   keyStatus + decide(), beside SHA-256 alone of the same key — how close the path is to the hash;
 * - seal/open of a typical provider key (src/crypto/envelope.ts).
 * Variants run interleaved, round after round, so drift on a shared machine hits them alike; each
 * figure is the median over rounds.
 */
import { createHash, randomBytes } from "node:crypto";
import type { MasterKey } from "../src/config/env";
import { open, type SealContext, seal } from "../src/crypto/envelope";
import { generateKey, hashKey, parseKey } from "../src/keys/token";
import { decide, type KeyFacts, keyStatus } from "../src/verify/decision";
import { median } from "./stats";

export interface OpsFigure {
  name: string;
  /** Median over rounds. */
  opsPerSecond: number;
  /** Median over rounds of (this variant's rate / the first variant's rate), batches run back to back. */
  ratioToFirst: number;
  rounds: number;
}

interface Variant {
  name: string;
  /** One operation; awaited one at a time, like one request does. */
  op: (i: number) => unknown | Promise<unknown>;
}

async function timeBatch(variant: Variant, iterations: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await variant.op(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return iterations / seconds;
}

/**
 * Short batches (~batchMs each), variants interleaved and rotated round after round: a burst of
 * noise from a neighbour hits neighbouring batches alike, so per-round ratios stay meaningful even
 * when absolute rates swing. Figures are medians over rounds.
 */
export async function compare(variants: Variant[], { rounds = 41, batchMs = 20 } = {}): Promise<OpsFigure[]> {
  const iterations = new Map<string, number>();
  for (const variant of variants) {
    await timeBatch(variant, 256); // warm-up (JIT, lazy key derivation)
    let n = 64;
    for (;;) {
      const rate = await timeBatch(variant, n);
      if (n / rate >= 0.01 || n >= 1 << 22) {
        iterations.set(variant.name, Math.max(32, Math.round((rate * batchMs) / 1000)));
        break;
      }
      n *= 4;
    }
  }
  const rates = variants.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const index = (round + k) % variants.length;
      const variant = variants[index] as Variant;
      rates[index]?.push(await timeBatch(variant, iterations.get(variant.name) ?? 1000));
    }
  }
  const first = rates[0] ?? [];
  return variants.map((v, index) => {
    const own = rates[index] ?? [];
    return {
      name: v.name,
      opsPerSecond: median(own),
      ratioToFirst: median(own.map((rate, round) => rate / (first[round] ?? Number.NaN))),
      rounds,
    };
  });
}

const KEY_FACTS: Omit<KeyFacts, "id"> = {
  ownerId: "user-1",
  name: "CI",
  permissions: ["projects:read", "deploy:write"],
  rateLimit: 120,
  accountRateLimit: 2000,
  projects: null,
  expiresAtMs: null,
  revoked: false,
  enabled: true,
  matched: "current",
  previousExpiresAtMs: null,
};

/** The verify decision without I/O, and its parts. */
export async function hotPath(): Promise<OpsFigure[]> {
  const key = generateKey();
  const bytes = new TextEncoder().encode(key);
  const facts: KeyFacts = { id: "8b0c3b8e-4f57-4d1f-9a51-000000000001", ...KEY_FACTS };
  const rate = [
    { policy: "key" as const, limit: 120, remaining: 119, resetMs: 0, windowSeconds: 60 },
    { policy: "account" as const, limit: 2000, remaining: 1999, resetMs: 0, windowSeconds: 60 },
  ] as const;
  let sink = 0;
  const figures = await compare([
    {
      name: "SHA-256 alone (crypto.subtle.digest of the key)",
      op: async () => {
        sink += (await crypto.subtle.digest("SHA-256", bytes)).byteLength;
      },
    },
    {
      name: "verify decision (parseKey + hashKey + keyStatus + decide)",
      op: async () => {
        const parsed = parseKey(key);
        if (!parsed.ok) throw new Error("bench key does not parse");
        const hash = await hashKey(parsed.key);
        const now = Date.now();
        if (!keyStatus(facts, now).ok) throw new Error("unexpected key status");
        const verdict = decide({
          key: facts,
          limit: { success: true, rate },
          required: "projects:read",
          nowMs: now,
        });
        sink += verdict.allow ? hash.length : 0;
      },
    },
    {
      name: "hashKey (encode + digest + hex)",
      op: async () => {
        sink += (await hashKey(key)).length;
      },
    },
    {
      name: "parseKey (shape + CRC-32 checksum)",
      op: () => {
        sink += parseKey(key).ok ? 1 : 0;
      },
    },
    {
      name: "keyStatus + decide",
      op: () => {
        const now = Date.now();
        sink += keyStatus(facts, now).ok ? 1 : 0;
        sink += decide({ key: facts, limit: { success: true, rate }, required: "projects:read", nowMs: now })
          .allow
          ? 1
          : 0;
      },
    },
    {
      name: "reference: node:crypto createHash (sync; not the Worker's API)",
      op: () => {
        sink += createHash("sha256").update(key).digest("hex").length;
      },
    },
  ]);
  if (sink < 0) console.log(sink); // keeps the work observable
  return figures;
}

/** A typical stored provider key: an OpenAI-style project key (~164 characters). */
function typicalProviderKey(): string {
  return `sk-proj-${randomBytes(117).toString("base64url")}`.slice(0, 164);
}

export async function envelope(): Promise<{
  figures: OpsFigure[];
  plaintextLength: number;
  envelopeLength: number;
}> {
  const masterKeys: MasterKey[] = [{ version: 1, bytes: new Uint8Array(randomBytes(32)) }];
  const context: SealContext = { ownerId: "user_2abcDEF345", provider: "openai", baseUrl: null };
  const plaintext = typicalProviderKey();
  const sealed = await seal(plaintext, context, masterKeys); // derives the AES key once, as an isolate does
  if ((await open(sealed, context, masterKeys)) !== plaintext)
    throw new Error("envelope does not round-trip");
  const bytes = new TextEncoder().encode(plaintext);
  let sink = 0;
  const figures = await compare([
    {
      name: "SHA-256 alone of the same plaintext (reference)",
      op: async () => (sink += (await crypto.subtle.digest("SHA-256", bytes)).byteLength),
    },
    {
      name: "seal (AES-256-GCM, fresh IV, AAD, base64url)",
      op: async () => (sink += (await seal(plaintext, context, masterKeys)).length),
    },
    {
      name: "open (parse, AES-256-GCM verify + decrypt)",
      op: async () => (sink += (await open(sealed, context, masterKeys))?.length ?? 0),
    },
  ]);
  if (sink < 0) console.log(sink);
  return { figures, plaintextLength: plaintext.length, envelopeLength: sealed.length };
}

/** The bench's results: their JSON shape and the Markdown tables printed and put in docs/PERFORMANCE.md. */
import type { OpsFigure } from "./cpu";
import type { MeasuredRun } from "./e2e";
import type { FloorFigure, FloorRun } from "./floor";
import type { LimiterResult } from "./limiter";
import type { RoundTripSummary, UnknownKeysFigure } from "./round-trips";
import type { ScanFigure } from "./scan";
import { fmt, median } from "./stats";

export interface LoadComparison {
  connections: number;
  durationSeconds: number;
  repetitions: number;
  keys: number;
  authenticated: { path: string; runs: MeasuredRun[]; median: MedianLoad };
  baseline: { path: string; runs: MeasuredRun[]; median: MedianLoad };
  /** Medians over repetitions of the paired per-repetition ratios (authenticated / baseline). */
  ratios: { workerdCpu: number | null; requestsPerSecond: number; latencyP50: number; latencyP99: number };
}

export interface MedianLoad {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  upstashPerRequest: number;
  /** Summed over the runs. */
  upstashTimeouts: number;
  workerdCpuMsPerRequest: number | null;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    wrangler: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  stores: { postgres: string; redis: string };
  roundTrips: RoundTripSummary[];
  unknownKeys: UnknownKeysFigure[];
  hotPath: OpsFigure[];
  envelope: { plaintextLength: number; envelopeLength: number; figures: OpsFigure[] };
  scan: ScanFigure;
  load: LoadComparison;
  floor: FloorFigure;
  limiter: LimiterResult[];
}

const cpuText = (ms: number | null) => (ms === null ? "—" : fmt(ms));

/** Upstash pay-as-you-go: $0.2 per 100,000 commands. */
const USD_PER_COMMAND = 0.2 / 100_000;
/** What a million requests of this kind cost in Upstash commands, at the median. */
const perMillion = (commands: { median: number }) =>
  `$${(commands.median * USD_PER_COMMAND * 1e6).toFixed(2)}`;

const spreadText = (s: { median: number; min: number; max: number }) =>
  s.min === s.max ? String(s.median) : `${s.median} (${s.min}–${s.max})`;

/** A Markdown table, columns padded to their widest cell (the layout Biome's formatter keeps). */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function renderMarkdown(r: BenchResults): string {
  const parts: string[] = [];
  parts.push(
    `Run ${r.finishedAt.slice(0, 16).replace("T", " ")} UTC · ${r.machine.cpus} × ${r.machine.cpuModel} · ` +
      `Node ${r.machine.node} · wrangler ${r.machine.wrangler} · load average ${r.machine.loadAverageAtStart
        .map((v) => v.toFixed(1))
        .join("/")} at start, ${r.machine.loadAverageAtEnd.map((v) => v.toFixed(1)).join("/")} at end · ` +
      `Postgres: ${r.stores.postgres}; Redis: ${r.stores.redis}.`,
  );

  parts.push(
    "**1. Round trips per request** (HTTP requests served by the local Neon / Upstash servers, and the Redis " +
      "commands those Upstash requests carried — a pipeline of 2 is 1 request, 2 commands; median (min–max) over samples)",
  );
  parts.push(
    table(
      [
        "request",
        "status",
        "Upstash requests",
        "Upstash commands",
        "$ per 1M (Upstash PAYG)",
        "Neon",
        "target",
        "samples",
      ],
      r.roundTrips.map((c) => [
        c.provider ? `${c.name} — provider checks: ${spreadText(c.provider)}` : c.name,
        c.status,
        spreadText(c.upstash),
        spreadText(c.upstashCommands),
        perMillion(c.upstashCommands),
        spreadText(c.neon),
        c.target || "—",
        String(c.samples),
      ]),
    ),
  );
  parts.push(
    "**1b. Distinct unknown keys from many addresses** (well-formed keys with a valid checksum, never issued, " +
      "each sent once; totals over the batch, as counted by the local servers)",
  );
  parts.push(
    table(
      [
        "clients",
        "keys",
        "addresses",
        "Neon queries",
        "Neon per key",
        "Upstash requests",
        "Upstash commands",
        "statuses",
      ],
      r.unknownKeys.map((u) => [
        u.clients,
        String(u.keys),
        String(u.addresses),
        `**${u.neon}**`,
        fmt(u.neon / u.keys),
        String(u.upstash),
        String(u.upstashCommands),
        Object.entries(u.statuses)
          .map(([status, n]) => `${status}: ${n}`)
          .join(", "),
      ]),
    ),
  );

  const [sha, ...rest] = r.hotPath;
  parts.push(
    "**2. Hot-path CPU** (Node's WebCrypto, one operation awaited at a time; medians over interleaved rounds; " +
      "ratio = ops/s relative to SHA-256 alone, paired per round)",
  );
  parts.push(
    table(
      ["operation", "ops/s", "× SHA-256 alone"],
      [sha, ...rest]
        .filter((f): f is OpsFigure => f !== undefined)
        .map((f) => [f.name, fmt(f.opsPerSecond), fmt(f.ratioToFirst)]),
    ),
  );

  parts.push(
    `**3. End to end** (autocannon, ${r.load.connections} connections × ${r.load.durationSeconds} s, ` +
      `${r.load.repetitions} repetitions alternating, medians; \`wrangler dev\` on this machine; ` +
      `${r.load.keys} warm keys at 1000/min)`,
  );
  const a = r.load.authenticated.median;
  const b = r.load.baseline.median;
  parts.push(
    table(
      [
        "route",
        "workerd CPU ms / request",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "unexpected statuses",
        "Upstash per request",
        "Upstash timeouts",
      ],
      [
        [
          `\`GET ${r.load.authenticated.path}\` (key check)`,
          cpuText(a.workerdCpuMsPerRequest),
          fmt(a.requestsPerSecond),
          fmt(a.latencyP50Ms),
          fmt(a.latencyP99Ms),
          String(a.non2xx),
          fmt(a.upstashPerRequest),
          String(a.upstashTimeouts),
        ],
        [
          `\`GET ${r.load.baseline.path}\` (404, no I/O)`,
          cpuText(b.workerdCpuMsPerRequest),
          fmt(b.requestsPerSecond),
          fmt(b.latencyP50Ms),
          fmt(b.latencyP99Ms),
          String(b.non2xx),
          fmt(b.upstashPerRequest),
          String(b.upstashTimeouts),
        ],
        [
          "**ratio** authenticated / baseline",
          r.load.ratios.workerdCpu === null ? "—" : `**${fmt(r.load.ratios.workerdCpu)}**`,
          `**${fmt(r.load.ratios.requestsPerSecond)}**`,
          fmt(r.load.ratios.latencyP50),
          fmt(r.load.ratios.latencyP99),
          "",
          "",
          "",
        ],
      ],
    ),
  );

  const floorRuns = (route: FloorRun["route"]) => r.floor.runs.filter((run) => run.route === route);
  const floorMedian = (route: FloorRun["route"], pick: (run: FloorRun) => number | null) => {
    const values = floorRuns(route).map(pick);
    return values.every((v) => v !== null) ? fmt(median(values as number[])) : "—";
  };
  parts.push(
    "**3b. The floor** (the same load against a bare Worker — no Hono, no libraries — under its own " +
      "`wrangler dev`: a 404 at once, or ONE fetch to a loopback server answering like Upstash's " +
      "pipeline; what a single round trip costs on workerd by itself)",
  );
  parts.push(
    table(
      ["bare Worker", "workerd CPU ms / request", "requests/s"],
      [
        [
          "one fetch, then answer",
          floorMedian("/fetch", (run) => run.workerdCpuMsPerRequest),
          floorMedian("/fetch", (run) => run.requestsPerSecond),
        ],
        [
          "404 at once",
          floorMedian("/nothing", (run) => run.workerdCpuMsPerRequest),
          floorMedian("/nothing", (run) => run.requestsPerSecond),
        ],
        [
          "**ratio** one fetch / none",
          r.floor.ratios.workerdCpu === null ? "—" : `**${fmt(r.floor.ratios.workerdCpu)}**`,
          `**${fmt(r.floor.ratios.requestsPerSecond)}**`,
        ],
      ],
    ),
  );

  parts.push(
    `**4. Provider-key envelope** (${r.envelope.plaintextLength}-character key → ${r.envelope.envelopeLength}-character envelope; Node's WebCrypto)`,
  );
  parts.push(
    table(
      ["operation", "ops/s", "× SHA-256 of the same plaintext"],
      r.envelope.figures.map((f) => [f.name, fmt(f.opsPerSecond), fmt(f.ratioToFirst)]),
    ),
  );

  parts.push(
    `**5. Limiter accuracy over HTTP** (3L requests issued at once on a fresh key, at most ${r.limiter[0]?.maxInFlight ?? "?"} in flight; ` +
      "by the limiter = 200s whose X-RateLimit-Remaining came from the limiter (target: exactly L); " +
      "fail-open = 200s answered while the isolate's Upstash breaker was open)",
  );
  parts.push(
    table(
      [
        "limit L",
        "sent",
        "admitted (200)",
        "by the limiter",
        "fail-open",
        "limited (429)",
        "other",
        "Upstash timeouts",
        "burst",
        "window",
      ],
      r.limiter.map((l) => [
        String(l.limit),
        String(l.sent),
        String(l.admitted),
        `**${l.admittedByLimiter}**`,
        String(l.admittedFailOpen),
        String(l.limited),
        Object.keys(l.other).length ? JSON.stringify(l.other) : "0",
        String(l.upstashTimeouts),
        `${fmt(l.burstMs / 1000)} s`,
        `s${l.startSecond}–s${l.endSecond}${l.crossedWindow ? " (crossed a boundary!)" : ""}`,
      ]),
    ),
  );
  parts.push(
    `**6. Deploy-check scan** (src/scanning/source-scan.ts as a pure call; ${r.scan.files} files, ${r.scan.projectBytes} bytes of code, prose and JSON with planted secrets; median of ${r.scan.rounds} rounds)`,
  );
  parts.push(
    table(
      ["MB/s", "findings", "vk_sk_ candidates"],
      [[fmt(r.scan.megabytesPerSecond), String(r.scan.findings), String(r.scan.vulkCandidates)]],
    ),
  );

  return parts.join("\n\n");
}

export const DOCS_START = "<!-- bench:results:start (written by npm run bench -- --write-docs) -->";
export const DOCS_END = "<!-- bench:results:end -->";

export function replaceDocsBlock(doc: string, markdown: string): string {
  const start = doc.indexOf(DOCS_START);
  const end = doc.indexOf(DOCS_END);
  if (start < 0 || end < start) throw new Error("docs/PERFORMANCE.md has no bench results markers");
  return `${doc.slice(0, start + DOCS_START.length)}\n\n${markdown}\n\n${doc.slice(end)}`;
}

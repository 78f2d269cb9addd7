/**
 * The deploy check's scanner (src/scanning/source-scan.ts) as a pure function call: MB/s over a
 * 10 MB project of realistic text — TypeScript, Markdown prose that mentions `sk-` and
 * placeholders, JSON — with a few planted secrets. No I/O is timed; the median over rounds is reported.
 */
import { generateKey, randomBase62 } from "../src/keys/token";
import { scanFiles } from "../src/scanning/source-scan";
import { median } from "./stats";

export interface ScanFigure {
  projectBytes: number;
  files: number;
  /** Median over rounds, 10^6 bytes (UTF-8) per second. */
  megabytesPerSecond: number;
  findings: number;
  vulkCandidates: number;
  rounds: number;
}

/** Source lines; `$` + `{` is kept apart so the lines stay plain strings of template-literal code. */
const T = "$" + "{";
const CODE = [
  'import { Hono } from "hono";',
  "export async function handler(request: Request, env: Env): Promise<Response> {",
  "  const url = new URL(request.url); // the sk- prefix is OpenAI's; keys look like sk-...",
  `  const headers = { Authorization: \`Bearer ${T}env.TOKEN}\`, "Content-Type": "application/json" };`,
  "  for (let i = 0; i < items.length; i++) total += items[i].price * items[i].quantity;",
  `  if (!response.ok) throw new Error(\`upstream answered ${T}response.status}\`);`,
  "  return new Response(JSON.stringify({ ok: true, total }), { status: 200 });",
  "}",
];
const PROSE = [
  "# Getting started",
  "Set OPENAI_API_KEY=sk-YOUR_KEY in `.dev.vars` and never commit it; scikit-learn users may know sk-learn.",
  "Together we deploy to production; the mistral model answers in French and English alike.",
  "Authorization: Bearer <token> is how every request authenticates; see the API reference.",
];
const JSON_LINES = [
  '  "name": "storefront",',
  '  "version": "1.4.2",',
  '  "dependencies": { "react": "^19.0.0" },',
];

function fileOf(lines: string[], bytes: number): string {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = lines[i % lines.length] as string;
    out.push(line);
    size += line.length + 1;
  }
  return out.join("\n");
}

/** 10 files of 1 MB: code, prose and JSON, with five secrets planted in the middle of files. */
export function syntheticProject(): { path: string; content: string }[] {
  const kinds = [CODE, CODE, CODE, CODE, PROSE, PROSE, CODE, JSON_LINES, CODE, PROSE];
  const planted = [
    `const key = "${generateKey()}";`,
    `OPENAI_API_KEY=sk-proj-${randomBase62(60)}T3BlbkFJ${randomBase62(60)}`,
    `const groq = "gsk_${randomBase62(52)}";`,
    `GOOGLE_API_KEY=AIza${randomBase62(35)}`,
    `curl -H "Authorization: Bearer ${randomBase62(40)}" https://api.example.com`,
  ];
  return kinds.map((lines, i) => {
    const half = fileOf(lines, 500_000);
    const secret = planted[i % 2 === 0 ? i / 2 : -1];
    return { path: `src/file-${i}.ts`, content: secret ? `${half}\n${secret}\n${half}` : `${half}\n${half}` };
  });
}

export function scanSpeed(rounds = 15): ScanFigure {
  const files = syntheticProject();
  const bytes = files.reduce((n, f) => n + new TextEncoder().encode(f.content).length, 0);
  const result = scanFiles(files); // warm-up (regex compilation, JIT)
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    scanFiles(files);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rates.push(bytes / 1e6 / seconds);
  }
  return {
    projectBytes: bytes,
    files: files.length,
    megabytesPerSecond: Math.round(median(rates) * 10) / 10,
    findings: result.findings.length,
    vulkCandidates: result.vulkCandidates.length,
    rounds,
  };
}

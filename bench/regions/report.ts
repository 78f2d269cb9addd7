/** The simulator's table (Markdown), one block of rows per design. */
import { fmt } from "../stats";

export interface RegionRow {
  region: string;
  checks: number;
  p50Ms: number;
  p99Ms: number;
  upstashRequestsPerCheck: number;
  commandsPerCheck: number;
  neonRequestsPer1kChecks: number;
  /** One per revocation: ms from its answer to the start of the last admitted check with the key. */
  admittedAfterRevokeMs: number[];
  dollarsPerMillion: number;
}

export interface DesignResult {
  design: string;
  regions: RegionRow[];
  /** The shared key's most admitted checks in any rolling minute, worldwide, as % of L. */
  limitMaxPercent: number;
  /** The same over the windows that end before the cut begins. */
  limitMaxBeforeCutPercent: number;
  /** Upstash requests the servers counted vs. the isolates' own count (a check of the counting). */
  serverRequests: number;
  isolateRequests: number;
  /** The verifier's log events in the isolates (e.g. `upstash_unavailable`: a failed or timed-out request). */
  warnings: Record<string, number>;
  /** The writer's log events (e.g. `region_marker_write_failed`: a region it could not reach). */
  writerWarnings: Record<string, number>;
  /** Revocations answered 503 (marker step (a) failed) and repeated. */
  refusedRevocations: number;
}

export function table(results: readonly DesignResult[], revocations: readonly string[]): string {
  const header = [
    "design",
    "region",
    "checks",
    "p50 ms",
    "p99 ms",
    "max admitted / L, any 60 s before the cut",
    "max admitted / L, any 60 s",
    ...revocations.map((name) => `admitted, started after revoke: ${name} (ms)`),
    "Upstash req / check",
    "commands / check",
    "Neon req / 1k checks",
    "$ / 1M checks",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const result of results) {
    for (const [i, row] of result.regions.entries()) {
      const cells = [
        i === 0 ? result.design : "",
        row.region,
        String(row.checks),
        fmt(row.p50Ms),
        fmt(row.p99Ms),
        i === 0 ? `${fmt(result.limitMaxBeforeCutPercent)} %` : "",
        i === 0 ? `${fmt(result.limitMaxPercent)} %` : "",
        ...row.admittedAfterRevokeMs.map((ms) => fmt(ms)),
        fmt(row.upstashRequestsPerCheck),
        fmt(row.commandsPerCheck),
        fmt(row.neonRequestsPer1kChecks),
        fmt(row.dollarsPerMillion),
      ];
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

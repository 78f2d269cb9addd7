/**
 * GitHub's secret-scanning report and the partner feedback we answer with, plus the pure step from
 * "what each reported token is" to "what to write". Field names are GitHub's (snake_case).
 */
import { z } from "@hono/zod-openapi";
import type { LeakKill, LeakVerdict } from "../keys/leaks";
import { clipText } from "../lib/text";

export const MAX_TOKENS_PER_REPORT = 5000;
/** Audit metadata keeps at most this much of each reported string. */
const MAX_METADATA_CHARS = 2048;

export const LeakReportSchema = z
  .array(
    z.object({
      token: z.string().min(1),
      type: z.string().min(1).max(200),
      url: z.string().nullish(),
      source: z.string().nullish(),
    }),
  )
  .min(1, "a report names at least one token")
  .max(MAX_TOKENS_PER_REPORT, `a report names at most ${MAX_TOKENS_PER_REPORT} tokens`)
  .openapi("SecretScanningReport", {
    description: "GitHub's report: every match of the `vk_sk_` pattern it found in public content.",
  });
export type LeakReport = z.infer<typeof LeakReportSchema>;
export type ReportedToken = LeakReport[number];

export const FEEDBACK_LABELS = ["true_positive", "false_positive"] as const;
export type FeedbackLabel = (typeof FEEDBACK_LABELS)[number];

export const FeedbackSchema = z
  .array(
    z.object({
      token_hash: z.string().openapi({ description: "SHA-256 hex of the reported token" }),
      token_type: z.string(),
      label: z.enum(FEEDBACK_LABELS),
    }),
  )
  .openapi("SecretScanningFeedback", {
    description: "One entry per reported token: `true_positive` for any key of ours, live or not.",
  });
export type Feedback = z.infer<typeof FeedbackSchema>;

/** A reported token after the checksum check and hashing (the token itself goes no further). */
export interface CheckedToken {
  hash: string;
  /** Passed the checksum: worth a database lookup. */
  plausible: boolean;
  report: Omit<ReportedToken, "token">;
}

export function feedbackLabel(verdict: LeakVerdict | undefined): FeedbackLabel {
  return verdict && verdict.kind !== "unknown" ? "true_positive" : "false_positive";
}

/**
 * The writes a report calls for: one per key, a revocation winning over ending the grace period of
 * the same key's previous secret (a key is changed at most once per report).
 */
/** Who reported the leak, as the audit trail names it. */
export type Reporter = "github" | "public";

export function planKills(
  verdicts: ReadonlyMap<string, LeakVerdict>,
  tokens: readonly CheckedToken[],
  reporter: Reporter = "github",
): LeakKill[] {
  const byKey = new Map<string, LeakKill>();
  for (const token of tokens) {
    const verdict = verdicts.get(token.hash);
    if (verdict?.kind !== "revoke" && verdict?.kind !== "expire_previous") continue;
    const planned = byKey.get(verdict.key.id);
    if (planned && (planned.kind === "revoke" || verdict.kind === "expire_previous")) continue;
    byKey.set(verdict.key.id, {
      kind: verdict.kind,
      keyId: verdict.key.id,
      hash: token.hash,
      metadata: auditMetadata(reporter, token.report),
    });
  }
  return [...byKey.values()];
}

const clip = (value: string | null | undefined) =>
  value === null || value === undefined ? null : clipText(value, MAX_METADATA_CHARS);

function auditMetadata(
  reporter: Reporter,
  { type, url, source }: CheckedToken["report"],
): Record<string, unknown> {
  return { reporter, tokenType: clip(type), url: clip(url), source: clip(source) };
}

/**
 * A verified GitHub report → leaked keys killed → partner feedback. Checksums first (no database
 * work for a token that fails it), then ONE lookup for the whole report and one write batch; the
 * route writes the markers before it answers (docs/DESIGN.md#marker-protocol).
 */
import { systemActor } from "../audit/events";
import type { Database } from "../db/client";
import { deadKeyMarker, type LeakVerdict, leakVerdict } from "../keys/leaks";
import type { MarkerValue } from "../keys/marker";
import { findLeakMatches, killLeakedSecrets } from "../keys/repository";
import { hashKey, parseKey } from "../keys/token";
import type { Logger } from "../observability/logger";
import { type CheckedToken, type Feedback, feedbackLabel, type LeakReport, planKills } from "./report";

export const SCANNING_ACTOR = systemActor("github-secret-scanning");

export interface ReportStores {
  db: Database;
  logger: Logger;
}

/** The feedback for GitHub, and the markers the caller must write before it answers. */
export async function handleLeakReport(
  report: LeakReport,
  { db, logger }: ReportStores,
): Promise<{ feedback: Feedback; markers: Map<string, MarkerValue> }> {
  const tokens = await Promise.all(report.map(checkToken));
  const plausible = [...new Set(tokens.filter((t) => t.plausible).map((t) => t.hash))];
  const matches = await findLeakMatches(db, plausible);
  const verdicts = new Map<string, LeakVerdict>(plausible.map((hash) => [hash, leakVerdict(hash, matches)]));

  const kills = planKills(verdicts, tokens);
  const markers = new Map<string, MarkerValue>();
  for (const verdict of verdicts.values()) {
    if (verdict.kind === "already_dead") markers.set(verdict.key.id, deadKeyMarker(verdict.key));
  }
  for (const [id, marker] of await killLeakedSecrets(db, kills, SCANNING_ACTOR)) markers.set(id, marker);

  logger.log("info", "leak_report", {
    tokens: tokens.length,
    lookedUp: plausible.length,
    revokedKeyIds: kills.filter((k) => k.kind === "revoke").map((k) => k.keyId),
    previousSecretEndedKeyIds: kills.filter((k) => k.kind === "expire_previous").map((k) => k.keyId),
  });
  const feedback = tokens.map((token) => ({
    token_hash: token.hash,
    token_type: token.report.type,
    label: feedbackLabel(verdicts.get(token.hash)),
  }));
  return { feedback, markers };
}

async function checkToken({ token, ...report }: LeakReport[number]): Promise<CheckedToken> {
  return { hash: await hashKey(token), plausible: parseKey(token).ok, report };
}

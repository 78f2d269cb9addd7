/**
 * A verified GitHub report → leaked keys killed → partner feedback. Checksums first (no database
 * work for a token that fails it), then ONE lookup for the whole report, one write batch, and the
 * markers written before we answer (DESIGN §4: 503 when they cannot be).
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { systemActor } from "../audit/events";
import type { Database } from "../db/client";
import {
  deadKeyMarker,
  findLeakMatches,
  killLeakedSecrets,
  type LeakVerdict,
  leakVerdict,
} from "../keys/leaks";
import { type MarkerValue, writeMarkers } from "../keys/marker";
import { hashKey, parseKey } from "../keys/token";
import type { Logger } from "../observability/logger";
import { type CheckedToken, type Feedback, feedbackLabel, type LeakReport, planKills } from "./report";

export const SCANNING_ACTOR = systemActor("github-secret-scanning");

export interface ReportStores {
  db: Database;
  redis: Redis;
  logger: Logger;
}

export async function handleLeakReport(
  report: LeakReport,
  { db, redis, logger }: ReportStores,
): Promise<Feedback> {
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
  await writeMarkers(redis, markers, logger);

  logger.log("info", "leak_report", {
    tokens: tokens.length,
    lookedUp: plausible.length,
    revokedKeyIds: kills.filter((k) => k.kind === "revoke").map((k) => k.keyId),
    previousSecretEndedKeyIds: kills.filter((k) => k.kind === "expire_previous").map((k) => k.keyId),
  });
  return tokens.map((token) => ({
    token_hash: token.hash,
    token_type: token.report.type,
    label: feedbackLabel(verdicts.get(token.hash)),
  }));
}

async function checkToken({ token, ...report }: LeakReport[number]): Promise<CheckedToken> {
  return { hash: await hashKey(token), plausible: parseKey(token).ok, report };
}

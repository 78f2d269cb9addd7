/**
 * A verified GitHub report → leaked keys killed → partner feedback. Checksums first (no database
 * work for a token that fails it), then ONE lookup for the whole report and one write batch, under
 * the marker protocol (docs/DESIGN.md#marker-protocol).
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { type Actor, systemActor } from "../audit/events";
import type { Database } from "../db/client";
import { leakRevokedEvent } from "../events/owner-events";
import { publishEvents } from "../events/publish";
import { deadKeyMarker, type LeakVerdict, leakVerdict } from "../keys/leaks";
import { changeKeys, effectsOf, type MarkerStores } from "../keys/marker";
import { findLeakMatches, killLeakedSecrets } from "../keys/repository";
import { hashKey, parseKey } from "../keys/token";
import type { Logger } from "../observability/logger";
import {
  type CheckedToken,
  type Feedback,
  feedbackLabel,
  type LeakReport,
  planKills,
  type Reporter,
} from "./report";

export const SCANNING_ACTOR = systemActor("github-secret-scanning");
/** The public leak report (`POST /v1/leaks`): anyone may hand in a key they found. */
export const PUBLIC_REPORT_ACTOR = systemActor("leak-report");

/** Who is reporting: GitHub's secret scanning (the default) or anyone through `POST /v1/leaks`. */
export interface ReportSource {
  reporter: Reporter;
  actor: Actor;
}
const GITHUB: ReportSource = { reporter: "github", actor: SCANNING_ACTOR };

export interface ReportStores extends MarkerStores {
  db: Database;
  redis: Redis;
  logger: Logger;
  /** `EVENTS_QUEUE`, when bound: one `key.leak_revoked` per key changed. */
  events?: Queue | undefined;
}

/**
 * The feedback for GitHub, or `unavailable` when Redis refused the first step of the marker
 * protocol — then nothing was revoked, and GitHub re-delivers the report.
 */
export async function handleLeakReport(
  report: LeakReport,
  stores: ReportStores,
  source: ReportSource = GITHUB,
): Promise<Feedback | "unavailable"> {
  const { db, logger, events } = stores;
  const tokens = await Promise.all(report.map(checkToken));
  const plausible = [...new Set(tokens.filter((t) => t.plausible).map((t) => t.hash))];
  const matches = await findLeakMatches(db, plausible);
  const verdicts = new Map<string, LeakVerdict>(plausible.map((hash) => [hash, leakVerdict(hash, matches)]));

  const kills = planKills(verdicts, tokens, source.reporter);
  const outcome = await changeKeys(
    stores,
    logger,
    [...new Set(kills.map((kill) => kill.keyId))],
    () => killLeakedSecrets(db, kills, source.actor),
    (killed) => {
      const effects = effectsOf(killed, Date.now());
      // Re-writing the marker of a key that is already dead heals a marker write lost earlier.
      for (const verdict of verdicts.values()) {
        if (verdict.kind === "already_dead" && !effects.markers.has(verdict.key.id))
          effects.markers.set(verdict.key.id, deadKeyMarker(verdict.key));
      }
      return effects;
    },
  );
  if (!outcome.ok) return "unavailable";
  // The audit row of each event is the key.leaked row written with the change.
  const now = new Date();
  await publishEvents(
    events,
    outcome.value.map((key) => leakRevokedEvent(key, source.reporter, now)),
    logger,
  );

  logger.log("info", "leak_report", {
    reporter: source.reporter,
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

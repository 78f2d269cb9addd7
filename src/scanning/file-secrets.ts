/**
 * The scan of a set of files with its one database question: which `vk_sk_` candidates are live
 * keys, of any owner (docs/DESIGN.md#secrets-in-files). Candidates are those whose checksum holds;
 * all of them are looked up by hash in ONE query, and only when there is at least one.
 */
import type { Database } from "../db/client";
import { isLiveSecret } from "../keys/leaks";
import { findLeakMatches } from "../keys/repository";
import { hashKey } from "../keys/token";
import { byPlace } from "./deploy-check";
import { type SecretFinding, scanFiles } from "./source-scan";

export interface FileSecrets {
  /** Live `vk_sk_` keys found in the files. */
  liveKeys: SecretFinding[];
  /** Provider-key patterns and bearer literals. */
  findings: SecretFinding[];
}

export async function findFileSecrets(
  db: Database,
  files: Iterable<{ path: string; content: string }>,
): Promise<FileSecrets> {
  const { findings, vulkCandidates } = scanFiles(files);
  if (vulkCandidates.length === 0) return { liveKeys: [], findings };
  const hashed = await Promise.all(
    vulkCandidates.map(async ({ path, line, kind, token }) => ({
      path,
      line,
      kind,
      hash: await hashKey(token),
    })),
  );
  const matches = await findLeakMatches(db, [...new Set(hashed.map((c) => c.hash))]);
  const liveKeys = hashed
    .filter((c) => isLiveSecret(c.hash, matches))
    .map(({ path, line, kind }) => ({ path, line, kind }));
  return { liveKeys, findings };
}

/** Every finding, live keys included, for the `warnings` of a file write. */
export const warningsOf = (secrets: FileSecrets) => byPlace([...secrets.liveKeys, ...secrets.findings]);

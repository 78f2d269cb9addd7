/**
 * Whether a deployment may go out, given what the scan found (docs/DESIGN.md#secrets-in-files),
 * pure. A live `vk_sk_` key blocks with no override; provider-key patterns block unless the
 * request acknowledges them.
 */
import type { SecretFinding } from "./source-scan";

export type DeployCheck =
  /** `acknowledged`: provider-key findings the caller chose to ship (audited); empty when none. */
  | { kind: "clear"; acknowledged: SecretFinding[] }
  | { kind: "blocked"; findings: SecretFinding[]; overridable: boolean };

/** Path, then line: the order a reader fixes them in. */
export function byPlace(findings: readonly SecretFinding[]): SecretFinding[] {
  return [...findings].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
}

export function decideDeploy(
  secrets: { liveKeys: readonly SecretFinding[]; findings: readonly SecretFinding[] },
  acknowledgeSecrets: boolean,
): DeployCheck {
  const all = byPlace([...secrets.liveKeys, ...secrets.findings]);
  if (secrets.liveKeys.length > 0) return { kind: "blocked", findings: all, overridable: false };
  if (all.length > 0 && !acknowledgeSecrets) return { kind: "blocked", findings: all, overridable: true };
  return { kind: "clear", acknowledged: all };
}

/** The 422's detail: what to do, never which key or whose. */
export function blockedDetail(check: Extract<DeployCheck, { kind: "blocked" }>): string {
  return check.overridable
    ? 'The files contain what look like provider API keys (see secrets). Remove them and use the provider-key settings, or send {"acknowledgeSecrets": true} to deploy anyway.'
    : "The files contain a live VULK API key (see secrets). Remove the key from the files and roll it; this cannot be overridden.";
}

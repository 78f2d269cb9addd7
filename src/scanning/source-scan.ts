/**
 * Secrets in project files (docs/DESIGN.md#secrets-in-files), pure: no I/O, no hashing. One pass of
 * one regular expression per file finds `vk_sk_` tokens with a valid checksum (the caller asks the
 * database which are live) and well-known provider-key patterns, in the style of public secret
 * scanners (gitleaks, trufflehog): a distinctive prefix or a keyword beside the value, word
 * boundaries on both sides, a minimum length, a minimum entropy, and obvious placeholders skipped.
 * A finding names a path, a line and a kind — never the matched text.
 */
import { parseKey } from "../keys/token";

export const SECRET_KINDS = [
  "vulk_api_key",
  "openai_api_key",
  "anthropic_api_key",
  "google_api_key",
  "groq_api_key",
  "mistral_api_key",
  "deepseek_api_key",
  "together_api_key",
  "fireworks_api_key",
  "bearer_token",
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** Where a secret is: 1-based line. Never the secret itself. */
export interface SecretFinding {
  path: string;
  line: number;
  kind: SecretKind;
}

/** A `vk_sk_` token whose checksum holds: live or not is the database's to say. */
export interface VulkCandidate extends SecretFinding {
  kind: "vulk_api_key";
  token: string;
}

export interface ScanResult {
  /** Provider-key patterns and bearer literals, in file order. */
  findings: SecretFinding[];
  vulkCandidates: VulkCandidate[];
}

// Value boundaries: a secret is not part of a longer identifier-like run.
const B = "(?<![A-Za-z0-9_-])";
const E = "(?![A-Za-z0-9_-])";

/**
 * One alternation, one named group per rule, so each file is read once. Prefix rules first, then
 * keyword rules (a provider name within a few characters before an assignment of the value).
 */
const RULES = new RegExp(
  [
    `${B}(?<vulk>vk_sk_[0-9A-Za-z]{38})${E}`,
    `${B}(?<anthropic>sk-ant-[a-z]{2,8}\\d{0,3}-[A-Za-z0-9_-]{32,200})${E}`,
    `${B}(?<openai>sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20,})${E}`,
    `${B}(?<deepseek>sk-[a-f0-9]{32})${E}`,
    `${B}(?<skgeneric>sk-[A-Za-z0-9]{40,64})${E}`,
    `${B}(?<google>AIza[0-9A-Za-z_-]{35})${E}`,
    `${B}(?<groq>gsk_[A-Za-z0-9]{48,56})${E}`,
    `${B}(?<fireworks>fw_[A-Za-z0-9]{20,64})${E}`,
    `${B}(?<together>tgp_v1_[A-Za-z0-9_-]{40,64})${E}`,
    // `MISTRAL_API_KEY = "…"`, `together_key: '…'`: keyword, a short name tail, an assignment.
    `(?<keyword>[Mm][Ii][Ss][Tt][Rr][Aa][Ll]|[Tt][Oo][Gg][Ee][Tt][Hh][Ee][Rr])[A-Za-z0-9_.-]{0,24}["']?\\s{0,4}(?:[:=]|:=|=>)\\s{0,4}["'\`]?(?<kwvalue>[A-Za-z0-9]{32,64})${E}`,
    // `Authorization: Bearer <literal>`, in a header dump or a string in code; never a template. A
    // vk_sk_ key there is left to its own rule (checksum, then the database).
    `[Aa]uthorization["']?\\s{0,4}[:=,]?\\s{0,4}["'\`]?\\s{0,4}[Bb]earer\\s{1,4}(?!vk_sk_)(?<bearer>[A-Za-z0-9._~+/-]{20,500}=*)(?![A-Za-z0-9._~+/$={-])`,
  ].join("|"),
  "g",
);

/** Words and shapes that mark an example value, not a secret (case-insensitive). */
const PLACEHOLDER =
  /x{4,}|\.{3}|\*{3}|your|example|placeholder|dummy|sample|fake|redacted|changeme|insert|replace|secret_?here|token_?here|key_?here/i;
const SEQUENCES = ["0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"];

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** A run of 6 consecutive alphabet characters (`abcdef`, `123456`) is typed, not drawn. */
function hasSequence(text: string): boolean {
  for (const alphabet of SEQUENCES)
    for (let i = 0; i + 6 <= alphabet.length; i++) if (text.includes(alphabet.slice(i, i + 6))) return true;
  return false;
}

/** Random enough, and not an obvious stand-in. `body` is the value without its fixed prefix. */
export function looksRandom(body: string, minEntropy = 3.2): boolean {
  return !PLACEHOLDER.test(body) && !hasSequence(body) && entropy(body) >= minEntropy;
}

type Groups = Record<string, string | undefined>;

function classify(groups: Groups): { kind: SecretKind; value: string; body: string } | undefined {
  const prefixed = (kind: SecretKind, value: string, prefix: RegExp) => ({
    kind,
    value,
    body: value.replace(prefix, ""),
  });
  if (groups.vulk) return { kind: "vulk_api_key", value: groups.vulk, body: groups.vulk.slice(6) };
  if (groups.anthropic) return prefixed("anthropic_api_key", groups.anthropic, /^sk-ant-[a-z0-9]+-/);
  if (groups.openai) return prefixed("openai_api_key", groups.openai, /^sk-(?:proj-|svcacct-|admin-)?/);
  if (groups.deepseek) return prefixed("deepseek_api_key", groups.deepseek, /^sk-/);
  if (groups.skgeneric) return prefixed("openai_api_key", groups.skgeneric, /^sk-/);
  if (groups.google) return prefixed("google_api_key", groups.google, /^AIza/);
  if (groups.groq) return prefixed("groq_api_key", groups.groq, /^gsk_/);
  if (groups.fireworks) return prefixed("fireworks_api_key", groups.fireworks, /^fw_/);
  if (groups.together) return prefixed("together_api_key", groups.together, /^tgp_v1_/);
  if (groups.keyword && groups.kwvalue) {
    const kind = /^m/i.test(groups.keyword) ? "mistral_api_key" : "together_api_key";
    return { kind, value: groups.kwvalue, body: groups.kwvalue };
  }
  if (groups.bearer) return { kind: "bearer_token", value: groups.bearer, body: groups.bearer };
  return undefined;
}

/** Scans one file. Line numbers are counted only up to each match (no split of the file). */
export function scanText(path: string, content: string, into: ScanResult): void {
  let line = 1;
  let counted = 0;
  for (const match of content.matchAll(RULES)) {
    const found = classify(match.groups as Groups);
    if (!found) continue;
    for (let at = content.indexOf("\n", counted); at !== -1 && at < match.index; ) {
      line++;
      at = content.indexOf("\n", at + 1);
    }
    counted = match.index;
    if (found.kind === "vulk_api_key") {
      if (parseKey(found.value).ok)
        into.vulkCandidates.push({ path, line, kind: found.kind, token: found.value });
      continue;
    }
    // The bearer rule has no distinctive prefix: it needs more randomness than the prefixed ones.
    if (looksRandom(found.body, found.kind === "bearer_token" ? 3.5 : 3.2))
      into.findings.push({ path, line, kind: found.kind });
  }
}

/** Scans every file, in the order given. */
export function scanFiles(files: Iterable<{ path: string; content: string }>): ScanResult {
  const result: ScanResult = { findings: [], vulkCandidates: [] };
  for (const file of files) scanText(file.path, file.content, result);
  return result;
}

/**
 * The Activity list of Settings > API Keys: the owner's recent security events from the audit
 * trail (GET /api/audit), newest first, each as a sentence a person reads. Values go in as text.
 */
import { $, dateFormat, h, say, sentence, when } from "./dom.js";
import { api } from "./forms.js";

/**
 * @typedef {import("./settings.js").ApiKey} ApiKey
 * @typedef {{ id: string, action: string, actor: string, keyId: string | null, provider: string | null,
 *   ip: string | null, userAgent: string | null, metadata: Record<string, unknown>, createdAt: string }} AuditEvent
 *   `provider` holds the target of a non-key event: the provider, or the project of a deployment event
 */

/**
 * The audit actions shown as Activity: what someone watching over their keys needs to see. Leaks,
 * secrets found in a deployment (blocked or shipped on purpose), expiry notices, keys coming and going
 * or being switched off and on, new secrets, access widened or narrowed, provider keys (also one the
 * provider stopped accepting) and the account limit. Left out: `key.updated` that changes only a name or a rate limit (routine edits).
 */
const SECURITY_ACTIONS = new Set([
  "key.leaked",
  "deploy.secrets_blocked",
  "deploy.secrets_acknowledged",
  "key.expiring",
  "key.revoked",
  "key.disabled",
  "key.enabled",
  "key.rolled",
  "key.created",
  "key.updated",
  "provider_key.set",
  "provider_key.replaced",
  "provider_key.removed",
  "provider_key.rejected",
  "account.limit_changed",
]);
/** The fields of a `key.updated` that change what a key may reach. */
const ACCESS_FIELDS = ["permissions", "projects", "expiresAt"];
/** How many events the list shows, newest first; it reads a few pages' worth to find them. */
const ACTIVITY_SHOWN = 20;

const PROVIDER_NAMES = /** @type {Record<string, string>} */ ({
  openai: "OpenAI",
  anthropic: "Anthropic",
  gemini: "Google Gemini",
  deepseek: "DeepSeek",
  groq: "Groq",
  mistral: "Mistral",
  together: "Together AI",
  fireworks: "Fireworks AI",
  ollama: "Ollama",
  custom: "custom endpoint",
});

/** @param {AuditEvent} event */
function isSecurityEvent(event) {
  if (!SECURITY_ACTIONS.has(event.action)) return false;
  if (event.action !== "key.updated") return true;
  const changes = /** @type {Record<string, unknown>} */ (event.metadata.changes ?? {});
  return ACCESS_FIELDS.some((field) => field in changes);
}

/** @param {unknown} value @returns {Record<string, unknown>[]} */
const records = (value) => (Array.isArray(value) ? value : []);
/** "1 secret", "3 secrets". @param {number} count */
const secrets = (count) => `${count} ${count === 1 ? "secret" : "secrets"}`;

/**
 * Where in a deployment's files the secrets were: "config.js line 3, .env line 1" (at most three).
 * @param {Record<string, unknown>[]} found
 */
function places(found) {
  const named = found.slice(0, 3).map((f) => `${String(f.path)} line ${String(f.line)}`);
  return found.length > 3 ? `${named.join(", ")} and ${found.length - 3} more` : named.join(", ");
}

/**
 * Key id → name for the events: the listed keys first, then the names the events themselves recorded
 * (`key.created`, a rename), which is how a revoked key, missing from the list, keeps its name.
 * @param {ApiKey[]} keys
 * @param {AuditEvent[]} events  newest first
 */
function keyNamesFor(keys, events) {
  const names = new Map(keys.map((key) => [key.id, key.name]));
  for (const event of events) {
    if (!event.keyId || names.has(event.keyId)) continue;
    const changes = /** @type {Record<string, unknown>} */ (event.metadata.changes ?? {});
    const name = event.action === "key.created" ? event.metadata.name : changes.name;
    if (typeof name === "string") names.set(event.keyId, name);
  }
  return names;
}

/**
 * An audit event as a sentence. Metadata never holds a secret (only names, paths, lines, kinds, hints).
 * @param {AuditEvent} event
 * @param {Map<string, string>} keyNames
 * @param {Map<string, string>} projectNames  project id → name, as far as the page knows them
 * @returns {string}
 */
function describeEvent(event, keyNames, projectNames) {
  const m = event.metadata;
  const known = event.keyId ? keyNames.get(event.keyId) : undefined;
  const start = typeof m.start === "string" ? ` (${m.start})` : "";
  const key = known === undefined ? `A key${start}` : `Key ${known}`;
  const byVulk = event.actor.startsWith("system:");
  const project = (/** @type {unknown} */ id) =>
    (typeof id === "string" && projectNames.get(id)) || "a project";
  switch (event.action) {
    case "key.leaked": {
      const where =
        m.reporter === "github"
          ? "it was found in a public GitHub repository"
          : "someone reported finding it in public";
      return m.secret === "previous"
        ? `${key}'s previous secret stopped working: ${where}`
        : `${key} was revoked: ${where}`;
    }
    case "deploy.secrets_blocked": {
      const found = records(m.secrets);
      return `A deployment of ${project(event.provider)} was blocked: ${secrets(found.length)} in its files (${places(found)})`;
    }
    case "deploy.secrets_acknowledged": {
      const found = records(m.secrets);
      return `A deployment of ${project(m.projectId)} went out with ${secrets(found.length)} you acknowledged (${places(found)})`;
    }
    case "key.expiring":
      return typeof m.expiresAt === "string"
        ? `${key} expires on ${dateFormat.format(new Date(m.expiresAt))}`
        : `${key} expires within 7 days`;
    case "key.revoked":
      return byVulk && typeof m.reason === "string" && m.reason
        ? `${key} was revoked by VULK: ${m.reason}`
        : `${key} was deleted`;
    case "key.disabled":
      return `${key} was disabled`;
    case "key.enabled":
      return `${key} was enabled again`;
    case "key.rolled":
      return `${key} got a new secret`;
    case "key.created":
      return `${key} was created`;
    case "key.updated": {
      const changes = /** @type {Record<string, unknown>} */ (m.changes ?? {});
      const what = ACCESS_FIELDS.filter((field) => field in changes).map((field) =>
        field === "expiresAt" ? "expiry" : field,
      );
      return `${key}'s ${what.join(" and ")} changed`;
    }
    case "provider_key.set":
    case "provider_key.replaced":
    case "provider_key.removed": {
      const name = PROVIDER_NAMES[event.provider ?? ""] ?? "provider";
      const done = { set: "saved", replaced: "replaced", removed: "removed" }[event.action.slice(13)];
      return `Your ${name} key was ${done}`;
    }
    case "provider_key.rejected": {
      const name = PROVIDER_NAMES[event.provider ?? ""] ?? "provider";
      const found = m.via === "recheck" ? "at the weekly check" : "when it was used";
      return `${name} stopped accepting your key ${found}: save it again in Provider keys`;
    }
    case "account.limit_changed":
      return `Your account limit is now ${String(m.rateLimit)} requests per minute`;
    default:
      return sentence(event.action);
  }
}

/**
 * Reads the owner's audit trail and shows the latest security events.
 * @param {ApiKey[]} keys  the listed keys, for their names
 * @param {Map<string, string>} projectNames  project id → name
 */
export async function loadActivity(keys, projectNames) {
  const result = await api("GET", "/api/audit?limit=100");
  if (!result.ok) return say("activity-status", result.problem.detail);
  const events = /** @type {{ data: AuditEvent[] }} */ (result.data).data;
  const names = keyNamesFor(keys, events);
  const shown = events.filter(isSecurityEvent).slice(0, ACTIVITY_SHOWN);
  say("activity-status", "");
  $("activity-list").replaceChildren(
    ...shown.map((event) =>
      h(
        "li",
        { class: "activity-item", "data-action": event.action },
        h("span", { class: "activity-text" }, describeEvent(event, names, projectNames)),
        h("span", { class: "muted activity-when" }, when(event.createdAt), event.ip ? ` · ${event.ip}` : ""),
      ),
    ),
  );
  $("activity-empty").hidden = shown.length > 0;
}

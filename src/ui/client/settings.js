/**
 * The client of Settings > API Keys, served as `/settings/api-keys/app.js` (CSP `script-src 'self'`),
 * a module that imports its siblings: `dom.js` (elements, as text), `forms.js` (/api calls and errors
 * next to their controls), `usage-chart.js` (a key's last 24 hours) and `providers.js` (provider keys).
 * This file is the page itself: signing in, the list of public API keys, the key dialog (create and
 * edit), the delete confirmation and the Activity list (recent security events, in words). Plain browser JavaScript, no framework. Data comes from /api
 * with the session cookie; every value goes into the page as text (never as HTML). A full key lives
 * only in the "shown once" field and is cleared when its dialog closes.
 *
 * These files are served exactly as written: the Worker imports each as a text module (the
 * `[[rules]]` entry in wrangler.toml), so there is no build step between this source and the
 * browser. They are type-checked with the DOM lib (JSDoc types, `./tsconfig.json`) and linted like
 * the rest of `src/`.
 */

import { loadActivity } from "./activity.js";
import { $, h, requests, say, when } from "./dom.js";
import { api, busy, clearErrors, fieldError, onSignedOut, showProblem, submitButton } from "./forms.js";
import { loadProviders } from "./providers.js";
import { usageView } from "./usage-chart.js";

/**
 * @typedef {import("./forms.js").FieldMistake} FieldMistake
 * @typedef {import("./usage-chart.js").Usage} Usage
 * @typedef {{ id: string, name: string, start: string, permissions: string[], rateLimit: number,
 *   projects: string[] | null, enabled: boolean, createdAt: string, lastUsedAt: string | null,
 *   expiresAt: string | null, expired: boolean, expiring: boolean, requestsLast24h: number | null }} ApiKey
 * @typedef {{ name: string, permissions: string[], rateLimit: number, projects: string[] | null,
 *   expiresAt: string | null }} KeyRequest  what the key dialog says (a create or an edit)
 * @typedef {{ id: string, name: string }} Project
 */

// ---- signing in ----

function showSignedIn() {
  $("sign-in").hidden = true;
  $("signed-in").hidden = false;
  loadKeys();
  loadProviders();
}

/** @param {string} message */
function showSignedOut(message) {
  const open = /** @type {NodeListOf<HTMLDialogElement>} */ (document.querySelectorAll("dialog[open]"));
  for (const dialog of open) dialog.close();
  $("signed-in").hidden = true;
  $("sign-in").hidden = false;
  say("sign-in-status", message);
}

// Offered only in development on a loopback host (the shell leaves the form out otherwise).
const devForm = document.getElementById("dev-sign-in");
if (devForm instanceof HTMLFormElement) {
  devForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(devForm);
    const fields = { userId: "dev-user-id" };
    const userId = $("dev-user-id", HTMLInputElement).value.trim();
    if (!userId)
      return showProblem(
        { detail: "", errors: [{ path: "userId", message: "Enter a user id." }] },
        fields,
        "dev-user-id",
      );
    const done = busy(submitButton(devForm), "Signing in…");
    const result = await api("POST", "/dev/session", { userId });
    done();
    if (!result.ok) return showProblem(result.problem, fields, "dev-user-id");
    showSignedIn();
    $("create-key").focus();
  });
}

onSignedOut(showSignedOut);

// ---- public API keys ----

/** Keys whose usage panel is open; it stays open (and is re-read) when the list is re-read. */
const openUsage = new Set();

async function loadKeys() {
  // The projects are read alongside, for the names in each row's Projects column.
  const [result, named] = await Promise.all([api("GET", "/api/keys?limit=100"), readProjects()]);
  if (!result.ok) return say("keys-status", result.problem.detail);
  projectsKnown = named !== null;
  const keys = /** @type {{ data: ApiKey[] }} */ (result.data).data;
  $("keys-body").replaceChildren(...keys.flatMap(keyRows));
  $("keys-table").hidden = keys.length === 0;
  $("keys-empty").hidden = keys.length > 0;
  // Every change made on this page is an audit event, so the Activity list is re-read with the keys.
  await loadActivity(keys, projectNames);
}

/**
 * What a key's state says in words (never by colour alone).
 * @param {ApiKey} key
 * @returns {{ text: string, tone: string }[]}
 */
function keyBadges(key) {
  const badges = [];
  if (!key.enabled) badges.push({ text: "Disabled", tone: "" });
  if (key.expired) badges.push({ text: "Expired", tone: "danger" });
  else if (key.expiring) badges.push({ text: "Expires soon", tone: "warn" });
  return badges;
}

/** @param {ApiKey} key */
function projectsText(key) {
  if (key.projects === null) return "All projects";
  const count = key.projects.length;
  if (!projectsKnown) return count === 1 ? "1 project" : `${count} projects`;
  return key.projects.map((id) => projectNames.get(id) || "a deleted project").join(", ");
}

/**
 * A key's row, and below it its usage panel when that is open.
 * @param {ApiKey} key
 * @returns {HTMLTableRowElement[]}
 */
function keyRows(key) {
  const chips = h(
    "ul",
    { class: "chips" },
    key.permissions.map((permission) => h("li", { class: "chip" }, permission)),
  );
  const usageId = `usage-${key.id}`;
  const open = openUsage.has(key.id);
  /** @param {string} label @param {string} name @param {() => void} onclick @param {Record<string, unknown>} [extra] */
  const action = (label, name, onclick, extra) =>
    h(
      "button",
      { type: "button", class: "link", "aria-label": `${label} ${name}`, onclick, ...extra },
      label,
    );
  const row = h(
    "tr",
    { class: `key-row${key.enabled ? "" : " is-disabled"}`, "data-key-id": key.id },
    h(
      "th",
      { scope: "row", "data-label": "Name" },
      h("span", { class: "key-name" }, key.name),
      keyBadges(key).map((badge) => h("span", { class: `badge ${badge.tone}` }, badge.text)),
    ),
    h("td", { "data-label": "Key" }, h("code", {}, key.start)),
    h("td", { "data-label": "Permissions" }, chips),
    h("td", { "data-label": "Projects", class: "projects-cell" }, projectsText(key)),
    h("td", { "data-label": "Rate limit" }, `${key.rateLimit} / min`),
    h(
      "td",
      { "data-label": "Last 24 h", class: "requests-24h" },
      key.requestsLast24h === null ? "Unavailable" : requests(key.requestsLast24h),
    ),
    h("td", { "data-label": "Last used" }, when(key.lastUsedAt)),
    h("td", { "data-label": "Expires" }, when(key.expiresAt)),
    h(
      "td",
      { class: "row-actions" },
      action("Usage", `of ${key.name}`, () => toggleUsage(key), {
        "aria-expanded": String(open),
        "aria-controls": usageId,
      }),
      action("Edit", key.name, () => openKeyDialog(key)),
      action(key.enabled ? "Disable" : "Enable", key.name, () => setEnabled(key, !key.enabled), {
        "data-toggle": true,
      }),
      h(
        "button",
        {
          type: "button",
          class: "danger-link",
          "aria-label": `Delete ${key.name}`,
          onclick: () => askDelete(key),
        },
        "Delete",
      ),
    ),
  );
  if (!open) return [row];
  const panel = h("div", {
    id: usageId,
    class: "usage",
    role: "region",
    "aria-label": `Usage of ${key.name}`,
  });
  loadUsage(key, panel);
  return [row, h("tr", { class: "usage-row" }, h("td", { colspan: 9 }, panel))];
}

/** @param {ApiKey} key */
function toggleUsage(key) {
  if (openUsage.has(key.id)) openUsage.delete(key.id);
  else openUsage.add(key.id);
  const rows = keyRows(key);
  const current = document.querySelector(`tr.key-row[data-key-id="${key.id}"]`);
  if (!current) return;
  const next = current.nextElementSibling;
  if (next?.classList.contains("usage-row")) next.remove();
  current.replaceWith(...rows);
  rows[0]?.querySelector("button")?.focus();
}

/**
 * @param {ApiKey} key
 * @param {boolean} enabled
 */
async function setEnabled(key, enabled) {
  const result = await api("PATCH", `/api/keys/${encodeURIComponent(key.id)}`, { enabled });
  if (!result.ok) return say("keys-status", result.problem.detail);
  say(
    "keys-status",
    enabled
      ? `Enabled ${key.name}. It works again.`
      : `Disabled ${key.name}. It is refused until enabled again.`,
  );
  await loadKeys();
  // Focus stays on the same button (now saying the opposite), as it would on a toggle.
  const again = document.querySelector(`tr.key-row[data-key-id="${key.id}"] [data-toggle]`);
  if (again instanceof HTMLElement) again.focus();
}

/**
 * Reads a key's last 24 hours into its panel.
 * @param {ApiKey} key
 * @param {HTMLElement} panel
 */
async function loadUsage(key, panel) {
  panel.replaceChildren(h("p", { class: "status", role: "status" }, "Loading usage…"));
  const result = await api("GET", `/api/keys/${encodeURIComponent(key.id)}/usage?window=24h`);
  if (!result.ok)
    return panel.replaceChildren(h("p", { class: "field-error", role: "alert" }, result.problem.detail));
  panel.replaceChildren(...usageView(/** @type {Usage} */ (result.data), `pattern-${key.id}`, key.name));
}

// ---- creating and editing a key (one dialog) ----

const keyDialog = $("key-dialog", HTMLDialogElement);
const keyForm = $("key-form", HTMLFormElement);
const KEY_FIELDS = {
  name: "key-name",
  permissions: "key-permissions",
  rateLimit: "key-rate-limit",
  projects: "key-projects",
  expiresAt: "key-expires",
};
/** The key being edited; null while creating. */
/** @type {ApiKey | null} */
let editing = null;
/** Project id → name, from the last read of /api/projects (for the list's Projects column). */
const projectNames = new Map();
/** The last read of /api/projects succeeded, so an id missing from projectNames is a deleted project. */
let projectsKnown = false;

/**
 * The user's projects (recorded in projectNames), or null with the problem when they cannot be read.
 * @returns {Promise<Project[] | null>}
 */
async function readProjects() {
  const result = await api("GET", "/api/projects?limit=100");
  if (!result.ok) return null;
  const projects = /** @type {{ data: Project[] }} */ (result.data).data;
  projectNames.clear();
  for (const project of projects) projectNames.set(project.id, project.name);
  return projects;
}
/** The dialog's read of the project choices; a submit waits for it (an edit's ticks arrive with it). */
let projectChoices = Promise.resolve();
/** Counts the reads, so an older one that answers late does not overwrite a newer one. */
let projectReads = 0;

/** A time as the value of an `<input type="datetime-local">` (local time, to the minute). @param {string} iso */
function localInputValue(iso) {
  const d = new Date(iso);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const scopeSome = $("scope-some", HTMLInputElement);
const showScope = () => {
  $("project-choices").hidden = !scopeSome.checked;
};
for (const radio of keyForm.querySelectorAll("input[name=scope]"))
  radio.addEventListener("change", showScope);

/**
 * Fills the project checkboxes from /api/projects, ticking `chosen`.
 * @param {string[] | null} chosen
 */
async function loadProjectChoices(chosen) {
  const list = $("project-list");
  const read = ++projectReads;
  list.replaceChildren();
  say("projects-status", "Loading your projects…");
  const projects = await readProjects();
  if (read !== projectReads) return;
  if (!projects) return say("projects-status", "Your projects could not be read. Close and try again.");
  say("projects-status", projects.length === 0 ? "You have no projects yet." : "");
  list.replaceChildren(
    ...projects.map((project) => {
      const id = `project-${project.id}`;
      return h(
        "div",
        { class: "check" },
        h("input", {
          type: "checkbox",
          id,
          name: "projects",
          value: project.id,
          checked: chosen?.includes(project.id) ?? false,
        }),
        h("label", { for: id }, project.name),
      );
    }),
  );
}

/**
 * Opens the dialog for a new key (key = null) or for editing one.
 * @param {ApiKey | null} key
 */
function openKeyDialog(key) {
  editing = key;
  keyForm.reset();
  clearErrors(keyForm);
  say("key-dialog-title", key ? `Edit ${key.name}` : "Create API Key");
  say("key-submit", key ? "Save changes" : "Create key");
  const expires = $("key-expires", HTMLInputElement);
  expires.min = localInputValue(new Date().toISOString());
  if (key) {
    $("key-name", HTMLInputElement).value = key.name;
    for (const box of keyForm.querySelectorAll("input[name=permissions]")) {
      if (box instanceof HTMLInputElement)
        box.checked = key.permissions.includes(/** @type {any} */ (box.value));
    }
    $("key-rate-limit", HTMLInputElement).value = String(key.rateLimit);
    expires.value = key.expiresAt ? localInputValue(key.expiresAt) : "";
  }
  $(key && key.projects !== null ? "scope-some" : "scope-all", HTMLInputElement).checked = true;
  showScope();
  projectChoices = loadProjectChoices(key ? key.projects : null);
  keyDialog.showModal();
}

$("create-key").addEventListener("click", () => openKeyDialog(null));
$("key-expires-clear").addEventListener("click", () => {
  $("key-expires", HTMLInputElement).value = "";
  $("key-expires").focus();
});

/**
 * What the form says, checked in plain words before a round trip (the server's errors land in the same places).
 * @returns {{ request: KeyRequest, mistakes: FieldMistake[] }}
 */
function readKeyForm() {
  const rate = $("key-rate-limit", HTMLInputElement);
  const expires = $("key-expires", HTMLInputElement).value;
  const checked = (/** @type {string} */ name) =>
    Array.from(
      keyForm.querySelectorAll(`input[name=${name}]:checked`),
      (box) => /** @type {HTMLInputElement} */ (box).value,
    );
  const request = {
    name: $("key-name", HTMLInputElement).value.trim(),
    permissions: checked("permissions"),
    rateLimit: rate.valueAsNumber,
    projects: scopeSome.checked ? checked("projects").sort() : null,
    expiresAt: expires ? new Date(expires).toISOString() : null,
  };
  /** @type {FieldMistake[]} */
  const mistakes = [];
  if (!request.name) mistakes.push({ path: "name", message: "Give the key a name." });
  if (request.permissions.length === 0)
    mistakes.push({ path: "permissions", message: "Choose at least one permission." });
  if (request.projects?.length === 0)
    mistakes.push({ path: "projects", message: "Choose at least one project, or All projects." });
  if (
    !Number.isInteger(request.rateLimit) ||
    request.rateLimit < Number(rate.min) ||
    request.rateLimit > Number(rate.max)
  ) {
    mistakes.push({ path: "rateLimit", message: `Enter a whole number from ${rate.min} to ${rate.max}.` });
  }
  const expiryChanged = !editing || expires !== (editing.expiresAt ? localInputValue(editing.expiresAt) : "");
  if (expiryChanged && request.expiresAt && Date.parse(request.expiresAt) <= Date.now())
    mistakes.push({ path: "expiresAt", message: "Choose a time in the future, or Never expires." });
  return { request, mistakes };
}

/**
 * The fields of an edit that differ from the key as listed (a PATCH sends only those).
 * @param {ApiKey} key
 * @param {KeyRequest} request
 * @returns {Partial<KeyRequest>}
 */
function changedFields(key, request) {
  /** @type {Partial<KeyRequest>} */
  const changes = {};
  const same = (/** @type {unknown} */ a, /** @type {unknown} */ b) =>
    JSON.stringify(a) === JSON.stringify(b);
  if (request.name !== key.name) changes.name = request.name;
  if (!same([...request.permissions].sort(), [...key.permissions].sort()))
    changes.permissions = request.permissions;
  if (request.rateLimit !== key.rateLimit) changes.rateLimit = request.rateLimit;
  if (!same(request.projects, key.projects && [...key.projects].sort())) changes.projects = request.projects;
  const before = key.expiresAt ? localInputValue(key.expiresAt) : null;
  const after = request.expiresAt ? localInputValue(request.expiresAt) : null;
  if (before !== after) changes.expiresAt = request.expiresAt;
  return changes;
}

keyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(keyForm);
  // Until the choices are in, a scoped key's boxes are missing: reading them then would drop its projects.
  await projectChoices;
  const { request, mistakes } = readKeyForm();
  if (mistakes.length > 0) return showProblem({ detail: "", errors: mistakes }, KEY_FIELDS, "key-form");
  const key = editing;
  if (key) {
    const changes = changedFields(key, request);
    if (Object.keys(changes).length === 0) return fieldError("key-form", "Nothing has changed yet.");
    const done = busy(submitButton(keyForm), "Saving…");
    const result = await api("PATCH", `/api/keys/${encodeURIComponent(key.id)}`, changes);
    done();
    if (!result.ok) return showProblem(result.problem, KEY_FIELDS, "key-form");
    keyDialog.close();
    say("keys-status", `Saved the changes to ${/** @type {ApiKey} */ (result.data).name}.`);
    return loadKeys();
  }
  /** @type {Partial<KeyRequest>} */
  const create = { name: request.name, permissions: request.permissions, rateLimit: request.rateLimit };
  if (request.projects) create.projects = request.projects;
  if (request.expiresAt) create.expiresAt = request.expiresAt;
  const done = busy(submitButton(keyForm), "Creating…");
  const result = await api("POST", "/api/keys", create);
  done();
  if (!result.ok) return showProblem(result.problem, KEY_FIELDS, "key-form");
  showCreatedKey(/** @type {{ key: string }} */ (result.data).key);
  loadKeys();
});

/** @param {string} key */
function showCreatedKey(key) {
  keyForm.hidden = true;
  $("created").hidden = false;
  keyDialog.setAttribute("aria-labelledby", "created-title");
  $("created-key", HTMLInputElement).value = key;
  say("copy-status", "");
  $("copy-key").focus();
}

// The key leaves the page as soon as the dialog closes, however it closes (Done, Cancel, Esc).
keyDialog.addEventListener("close", () => {
  $("created-key", HTMLInputElement).value = "";
  $("created").hidden = true;
  keyForm.hidden = false;
  keyDialog.setAttribute("aria-labelledby", "key-dialog-title");
  editing = null;
});

$("copy-key").addEventListener("click", async () => {
  const field = $("created-key", HTMLInputElement);
  try {
    await navigator.clipboard.writeText(field.value);
    say("copy-status", "Copied to the clipboard.");
  } catch {
    field.select();
    say("copy-status", "This browser blocked copying: the key is selected, press Ctrl+C (⌘C on a Mac).");
  }
});

const deleteDialog = $("delete-dialog", HTMLDialogElement);
const deleteConfirm = $("delete-confirm", HTMLButtonElement);
/** @type {ApiKey | null} */
let keyToDelete = null;

/** @param {ApiKey} key */
function askDelete(key) {
  keyToDelete = key;
  say("delete-name", key.name);
  say("delete-start", key.start);
  fieldError("delete", "");
  deleteDialog.showModal();
}

deleteConfirm.addEventListener("click", async () => {
  const key = keyToDelete;
  if (!key) return;
  const done = busy(deleteConfirm, "Deleting…");
  const result = await api("DELETE", `/api/keys/${encodeURIComponent(key.id)}`);
  done();
  // 404: it was already deleted (elsewhere) — the outcome asked for.
  if (!result.ok && result.status !== 404) return fieldError("delete", result.problem.detail);
  deleteDialog.close();
  say("keys-status", `Deleted ${key.name}. It no longer works.`);
  await loadKeys();
  $("create-key").focus();
});

for (const button of document.querySelectorAll("[data-close]")) {
  button.addEventListener("click", () => button.closest("dialog")?.close());
}

if (document.body.dataset.signedIn === "true") showSignedIn();

/**
 * Provider keys (bring your own model): a card per provider to save a key — checked with the
 * provider first — or remove it. A provider key is never shown, only its last four characters.
 * Each card says whether the key is Active, Rejected by the provider (on use or at the weekly
 * re-check) or Needs re-entry, and when the provider was last asked about it.
 */
import { $, dateFormat, h, say } from "./dom.js";
import { api, busy, clearErrors, showProblem } from "./forms.js";

/**
 * @typedef {import("./forms.js").FieldMistake} FieldMistake
 * @typedef {{ provider: string, label: string, configured: boolean, hint: string | null,
 *   baseUrl: string | null, status: "valid" | "rejected" | "needs_reentry" | null,
 *   validatedAt: string | null, rejectedAt: string | null, lastCheckedAt: string | null,
 *   acceptsBaseUrl: boolean, requiresKey: boolean }} ProviderCard
 */

/** Codes that belong to one control rather than to the whole card. */
const PROVIDER_CODE_FIELDS = { provider_rejected_key: "apiKey", invalid_url: "baseUrl" };

export async function loadProviders() {
  const result = await api("GET", "/api/provider-keys");
  if (!result.ok) return say("providers-status", result.problem.detail);
  $("providers").replaceChildren(
    .../** @type {{ data: ProviderCard[] }} */ (result.data).data.map(providerCard),
  );
}

/**
 * A labelled input with its error slot; the provider's name is in the label for screen readers.
 * @param {string} id
 * @param {string} label
 * @param {HTMLInputElement} input
 * @param {string} provider
 */
function field(id, label, input, provider) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, h("span", { class: "sr-only" }, `${provider} `), label),
    input,
    h("p", { id: `${id}-error`, class: "field-error", hidden: true }),
  );
}

/** @param {string | null} iso */
const dateOf = (iso) => (iso ? dateFormat.format(new Date(iso)) : "");

/** The badge of each state: its words and its colour. */
const BADGES = {
  valid: { text: "Active", tone: "ok" },
  rejected: { text: "Rejected", tone: "danger" },
  needs_reentry: { text: "Needs re-entry", tone: "warn" },
};

/** @param {ProviderCard} card */
function describeSaved(card) {
  const parts = [];
  if (card.hint) parts.push(`Key ending in ${card.hint}`);
  if (card.baseUrl) parts.push(card.baseUrl);
  if (card.lastCheckedAt) parts.push(`last checked ${dateOf(card.lastCheckedAt)}`);
  return parts.join(" · ") || "Saved.";
}

/**
 * What the card says under its title: what to do first when something is wrong.
 * @param {ProviderCard} card
 */
function noteFor(card) {
  if (card.status === "rejected")
    return `Rejected by ${card.label} on ${dateOf(card.rejectedAt)}. Save the key again (or a new one) to use it.`;
  if (card.status === "needs_reentry") return "The saved key can no longer be read. Enter it again.";
  return "";
}

/**
 * One provider's card. It updates in place, so its status line stays a live region.
 * @param {ProviderCard} initial
 */
function providerCard(initial) {
  let card = initial;
  const id = `provider-${card.provider}`;
  const fields = { apiKey: `${id}-key`, baseUrl: `${id}-url` };
  /** @param {string} inputId @param {string} type */
  const textInput = (inputId, type) =>
    h("input", {
      id: inputId,
      type,
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": `${inputId}-error`,
    });
  const urlInput = card.acceptsBaseUrl ? textInput(fields.baseUrl, "url") : null;
  const keyInput = textInput(fields.apiKey, "password");
  const badge = h("span", { class: "badge" });
  const alert = h("p", { class: "card-alert" });
  const note = h("p", { class: "card-note" });
  const save = h("button", { type: "submit" }, "Save");
  const remove = h("button", { type: "button", class: "secondary", onclick: onRemove }, "Remove");
  const status = h("p", { id: `${id}-status`, class: "status", role: "status" });
  const form = h(
    "form",
    { id: `${id}-form`, novalidate: true, onsubmit: onSave },
    urlInput && field(fields.baseUrl, "Endpoint URL", urlInput, card.label),
    field(fields.apiKey, card.requiresKey ? "API key" : "API key (optional)", keyInput, card.label),
    h("p", { id: `${id}-form-error`, class: "field-error", role: "alert", hidden: true }),
    h("div", { class: "actions" }, save, remove),
  );
  if (urlInput)
    urlInput.placeholder =
      card.provider === "ollama" ? "https://ollama.example.com" : "https://models.example.com/v1";

  function render() {
    const state = card.status ? BADGES[card.status] : null;
    badge.textContent = state ? state.text : "Not configured";
    badge.className = `badge${state ? ` ${state.tone}` : ""}`;
    alert.textContent = noteFor(card);
    alert.hidden = !alert.textContent;
    note.textContent = card.configured ? describeSaved(card) : "Not set up: VULK credits are used.";
    if (urlInput) urlInput.value = card.baseUrl || "";
    keyInput.placeholder = card.configured && card.hint ? "Enter a new key to replace it" : "";
    remove.hidden = !card.configured;
  }

  /** @param {SubmitEvent} event */
  async function onSave(event) {
    event.preventDefault();
    clearErrors(form);
    const apiKey = keyInput.value.trim();
    /** @type {{ apiKey?: string, baseUrl?: string }} */
    const request = {};
    if (apiKey) request.apiKey = apiKey;
    if (urlInput) request.baseUrl = urlInput.value.trim();
    /** @type {FieldMistake[]} */
    const mistakes = [];
    if (urlInput && !request.baseUrl) mistakes.push({ path: "baseUrl", message: "Enter the endpoint URL." });
    if (card.requiresKey && !apiKey) mistakes.push({ path: "apiKey", message: "Enter the API key." });
    if (mistakes.length > 0) return showProblem({ detail: "", errors: mistakes }, fields, `${id}-form`);
    say(status.id, `Checking the key with ${card.label}…`);
    const done = busy(save, "Checking…");
    const result = await api("PUT", `/api/provider-keys/${card.provider}`, request);
    done();
    if (!result.ok) {
      say(status.id, "");
      return showProblem(result.problem, fields, `${id}-form`, PROVIDER_CODE_FIELDS);
    }
    keyInput.value = "";
    card = /** @type {ProviderCard} */ (result.data);
    render();
    say(status.id, `Saved.${card.hint ? ` Key ending in ${card.hint}.` : ""}`);
  }

  async function onRemove() {
    clearErrors(form);
    const done = busy(remove, "Removing…");
    const result = await api("DELETE", `/api/provider-keys/${card.provider}`);
    done();
    if (!result.ok) return showProblem(result.problem, fields, `${id}-form`);
    card = Object.assign({}, card, {
      configured: false,
      hint: null,
      baseUrl: null,
      status: null,
      validatedAt: null,
      rejectedAt: null,
      lastCheckedAt: null,
    });
    render();
    say(status.id, "Removed.");
    (urlInput || keyInput).focus();
  }

  render();
  return h(
    "article",
    { class: "card", id, "aria-labelledby": `${id}-title` },
    h("div", { class: "card-head" }, h("h3", { id: `${id}-title` }, card.label), badge),
    alert,
    note,
    form,
    status,
  );
}

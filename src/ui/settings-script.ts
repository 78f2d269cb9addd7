/**
 * The client of Settings > API Keys, served as `/settings/api-keys/app.js` (CSP `script-src 'self'`).
 * Plain browser JavaScript, no framework and no build step. Data comes from /api with the session
 * cookie; every value goes into the page as text (never as HTML). A full key lives only in the
 * "shown once" field and is cleared when its dialog closes; provider keys are never shown at all.
 *
 * Conventions: a control with id X has its error slot `X-error` (see FieldError in the shell).
 * Kept free of backticks, dollar-brace and backslashes, so this template literal holds it verbatim.
 */
export const SETTINGS_SCRIPT = `"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  /** An element with attributes (functions become listeners) and children (nodes or text). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
    return node;
  }

  const say = (id, text) => { $(id).textContent = text || ""; };
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const when = (iso) => (iso ? h("time", { datetime: iso }, dateFormat.format(new Date(iso))) : "Never");
  const sentence = (text) => { const s = String(text || "").trim(); return s.charAt(0).toUpperCase() + s.slice(1); };

  /** A same-origin call. Resolves to {ok, status, data} or {ok: false, status, problem}; never throws. */
  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      return { ok: false, status: 0, problem: { detail: "Could not reach VULK. Check your connection and try again." } };
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (response.ok) return { ok: true, status: response.status, data };
    const problem = data && typeof data.detail === "string"
      ? data
      : { detail: "Something went wrong (HTTP " + response.status + "). Try again." };
    const retryAfter = response.headers.get("Retry-After");
    if (response.status === 429 && retryAfter) problem.detail += " Try again in " + retryAfter + " seconds.";
    if (response.status === 401) showSignedOut("Your session has ended. Sign in again.");
    return { ok: false, status: response.status, problem };
  }

  // ---- errors next to the control that caused them ----

  /** Shows (or, without a message, clears) the error of control id; the control is marked invalid. */
  function fieldError(id, message) {
    const slot = $(id + "-error");
    slot.textContent = message || "";
    slot.hidden = !message;
    const control = $(id);
    if (control instanceof HTMLInputElement) {
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }

  function clearErrors(container) {
    for (const slot of container.querySelectorAll(".field-error")) { slot.textContent = ""; slot.hidden = true; }
    for (const control of container.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  }

  /**
   * Places a problem: each errors[].path (400 invalid_request) next to its control, else the control
   * its code belongs to (codeFields); the rest goes to the form's own slot. fields maps request
   * field -> control id. Focus moves to the first control in error, described by the message.
   */
  function showProblem(problem, fields, formId, codeFields) {
    const shown = [];
    const unplaced = [];
    for (const error of problem.errors || []) {
      const id = fields[String(error.path).split(".")[0]];
      if (!id) unplaced.push(sentence(error.message));
      else if (!shown.includes(id)) { fieldError(id, sentence(error.message)); shown.push(id); }
    }
    const byCode = codeFields && fields[codeFields[problem.code]];
    if (byCode && shown.length === 0) { fieldError(byCode, problem.detail); shown.push(byCode); }
    if (shown.length === 0 || unplaced.length > 0) fieldError(formId, unplaced.join(" ") || problem.detail);
    if (shown.length > 0) {
      const first = $(shown[0]);
      (first.querySelector("input") || first).focus();
    }
  }

  /** Disables a button while its request runs, saying what happens; returns the undo. */
  function busy(button, text) {
    const label = button.textContent;
    const form = button.closest("form");
    button.disabled = true;
    button.textContent = text;
    if (form) form.setAttribute("aria-busy", "true");
    return () => {
      button.disabled = false;
      button.textContent = label;
      if (form) form.removeAttribute("aria-busy");
      if (document.activeElement === document.body) button.focus();
    };
  }

  // ---- signing in ----

  function showSignedIn() {
    $("sign-in").hidden = true;
    $("signed-in").hidden = false;
    loadKeys();
    loadProviders();
  }

  function showSignedOut(message) {
    for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
    $("signed-in").hidden = true;
    $("sign-in").hidden = false;
    say("sign-in-status", message);
  }

  const devForm = $("dev-sign-in");
  if (devForm) {
    devForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(devForm);
      const fields = { userId: "dev-user-id" };
      const userId = $("dev-user-id").value.trim();
      if (!userId) return showProblem({ errors: [{ path: "userId", message: "Enter a user id." }] }, fields, "dev-user-id");
      const done = busy(devForm.querySelector("button[type=submit]"), "Signing in…");
      const result = await api("POST", "/dev/session", { userId });
      done();
      if (!result.ok) return showProblem(result.problem, fields, "dev-user-id");
      showSignedIn();
      $("create-key").focus();
    });
  }

  // ---- public API keys ----

  async function loadKeys() {
    const result = await api("GET", "/api/keys?limit=100");
    if (!result.ok) return say("keys-status", result.problem.detail);
    const keys = result.data.data;
    $("keys-body").replaceChildren(...keys.map(keyRow));
    $("keys-table").hidden = keys.length === 0;
    $("keys-empty").hidden = keys.length > 0;
  }

  function keyRow(key) {
    const chips = h("ul", { class: "chips" }, key.permissions.map((permission) => h("li", { class: "chip" }, permission)));
    const remove = h("button", { type: "button", class: "danger-link", "aria-label": "Delete " + key.name, onclick: () => askDelete(key) }, "Delete");
    return h("tr", { "data-key-id": key.id },
      h("th", { scope: "row", "data-label": "Name" }, key.name),
      h("td", { "data-label": "Key" }, h("code", {}, key.start)),
      h("td", { "data-label": "Permissions" }, chips),
      h("td", { "data-label": "Rate limit" }, key.rateLimit + " / min"),
      h("td", { "data-label": "Created" }, when(key.createdAt)),
      h("td", { "data-label": "Last used" }, when(key.lastUsedAt)),
      h("td", { class: "row-actions" }, remove));
  }

  const createDialog = $("create-dialog");
  const createForm = $("create-form");
  const CREATE_FIELDS = { name: "key-name", permissions: "key-permissions", rateLimit: "key-rate-limit" };

  $("create-key").addEventListener("click", () => {
    createForm.reset();
    clearErrors(createForm);
    createDialog.showModal();
  });

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(createForm);
    const rate = $("key-rate-limit");
    const request = {
      name: $("key-name").value.trim(),
      permissions: Array.from(createForm.querySelectorAll("input[name=permissions]:checked"), (box) => box.value),
      rateLimit: rate.valueAsNumber,
    };
    // The obvious mistakes in plain words before a round trip; the server's errors land in the same places.
    const mistakes = [];
    if (!request.name) mistakes.push({ path: "name", message: "Give the key a name." });
    if (request.permissions.length === 0) mistakes.push({ path: "permissions", message: "Choose at least one permission." });
    if (!Number.isInteger(request.rateLimit) || request.rateLimit < Number(rate.min) || request.rateLimit > Number(rate.max)) {
      mistakes.push({ path: "rateLimit", message: "Enter a whole number from " + rate.min + " to " + rate.max + "." });
    }
    if (mistakes.length > 0) return showProblem({ errors: mistakes }, CREATE_FIELDS, "create-form");
    const done = busy(createForm.querySelector("button[type=submit]"), "Creating…");
    const result = await api("POST", "/api/keys", request);
    done();
    if (!result.ok) return showProblem(result.problem, CREATE_FIELDS, "create-form");
    showCreatedKey(result.data.key);
    loadKeys();
  });

  function showCreatedKey(key) {
    createForm.hidden = true;
    $("created").hidden = false;
    createDialog.setAttribute("aria-labelledby", "created-title");
    $("created-key").value = key;
    say("copy-status", "");
    $("copy-key").focus();
  }

  // The key leaves the page as soon as the dialog closes, however it closes (Done, Cancel, Esc).
  createDialog.addEventListener("close", () => {
    $("created-key").value = "";
    $("created").hidden = true;
    createForm.hidden = false;
    createDialog.setAttribute("aria-labelledby", "create-title");
  });

  $("copy-key").addEventListener("click", async () => {
    const field = $("created-key");
    try {
      await navigator.clipboard.writeText(field.value);
      say("copy-status", "Copied to the clipboard.");
    } catch {
      field.select();
      say("copy-status", "This browser blocked copying: the key is selected, press Ctrl+C (⌘C on a Mac).");
    }
  });

  const deleteDialog = $("delete-dialog");
  let keyToDelete = null;

  function askDelete(key) {
    keyToDelete = key;
    say("delete-name", key.name);
    say("delete-start", key.start);
    fieldError("delete", "");
    deleteDialog.showModal();
  }

  $("delete-confirm").addEventListener("click", async () => {
    const key = keyToDelete;
    const done = busy($("delete-confirm"), "Deleting…");
    const result = await api("DELETE", "/api/keys/" + encodeURIComponent(key.id));
    done();
    // 404: it was already deleted (elsewhere) — the outcome asked for.
    if (!result.ok && result.status !== 404) return fieldError("delete", result.problem.detail);
    deleteDialog.close();
    say("keys-status", "Deleted " + key.name + ". It no longer works.");
    await loadKeys();
    $("create-key").focus();
  });

  for (const button of document.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }

  // ---- provider keys (bring your own model) ----

  /** Codes that belong to one control rather than to the whole card. */
  const PROVIDER_CODE_FIELDS = { provider_rejected_key: "apiKey", invalid_url: "baseUrl" };

  async function loadProviders() {
    const result = await api("GET", "/api/provider-keys");
    if (!result.ok) return say("providers-status", result.problem.detail);
    $("providers").replaceChildren(...result.data.data.map(providerCard));
  }

  /** A labelled input with its error slot; the provider's name is in the label for screen readers. */
  function field(id, label, input, provider) {
    return h("div", { class: "field" },
      h("label", { for: id }, h("span", { class: "sr-only" }, provider + " "), label),
      input,
      h("p", { id: id + "-error", class: "field-error", hidden: true }));
  }

  function describeSaved(card) {
    const parts = [];
    if (card.hint) parts.push("Key ending in " + card.hint);
    if (card.baseUrl) parts.push(card.baseUrl);
    if (card.validatedAt) parts.push("checked " + dateFormat.format(new Date(card.validatedAt)));
    return parts.join(" · ") || "Saved.";
  }

  /** One provider's card. It updates in place, so its status line stays a live region. */
  function providerCard(initial) {
    let card = initial;
    const id = "provider-" + card.provider;
    const fields = { apiKey: id + "-key", baseUrl: id + "-url" };
    const textInput = (inputId, type) => h("input", {
      id: inputId, type, autocomplete: "off", spellcheck: "false", "aria-describedby": inputId + "-error",
    });
    const urlInput = card.acceptsBaseUrl ? textInput(fields.baseUrl, "url") : null;
    const keyInput = textInput(fields.apiKey, "password");
    const badge = h("span", { class: "badge" });
    const note = h("p", { class: "card-note" });
    const save = h("button", { type: "submit" }, "Save");
    const remove = h("button", { type: "button", class: "secondary", onclick: onRemove }, "Remove");
    const status = h("p", { id: id + "-status", class: "status", role: "status" });
    const form = h("form", { id: id + "-form", novalidate: true, onsubmit: onSave },
      urlInput && field(fields.baseUrl, "Endpoint URL", urlInput, card.label),
      field(fields.apiKey, card.requiresKey ? "API key" : "API key (optional)", keyInput, card.label),
      h("p", { id: id + "-form-error", class: "field-error", role: "alert", hidden: true }),
      h("div", { class: "actions" }, save, remove));
    if (urlInput) urlInput.placeholder = card.provider === "ollama" ? "https://ollama.example.com" : "https://models.example.com/v1";

    function render() {
      const reentry = card.status === "needs_reentry";
      badge.textContent = reentry ? "Needs re-entry" : card.configured ? "Configured" : "Not configured";
      badge.className = "badge" + (reentry ? " warn" : card.configured ? " ok" : "");
      note.textContent = reentry
        ? "The saved key can no longer be read. Enter it again."
        : card.configured ? describeSaved(card) : "Not set up: VULK credits are used.";
      if (urlInput) urlInput.value = card.baseUrl || "";
      keyInput.placeholder = card.configured && card.hint ? "Enter a new key to replace it" : "";
      remove.hidden = !card.configured;
    }

    async function onSave(event) {
      event.preventDefault();
      clearErrors(form);
      const apiKey = keyInput.value.trim();
      const request = {};
      if (apiKey) request.apiKey = apiKey;
      if (urlInput) request.baseUrl = urlInput.value.trim();
      const mistakes = [];
      if (urlInput && !request.baseUrl) mistakes.push({ path: "baseUrl", message: "Enter the endpoint URL." });
      if (card.requiresKey && !apiKey) mistakes.push({ path: "apiKey", message: "Enter the API key." });
      if (mistakes.length > 0) return showProblem({ errors: mistakes }, fields, id + "-form");
      say(status.id, "Checking the key with " + card.label + "…");
      const done = busy(save, "Checking…");
      const result = await api("PUT", "/api/provider-keys/" + card.provider, request);
      done();
      if (!result.ok) {
        say(status.id, "");
        return showProblem(result.problem, fields, id + "-form", PROVIDER_CODE_FIELDS);
      }
      keyInput.value = "";
      card = result.data;
      render();
      say(status.id, "Saved." + (card.hint ? " Key ending in " + card.hint + "." : ""));
    }

    async function onRemove() {
      clearErrors(form);
      const done = busy(remove, "Removing…");
      const result = await api("DELETE", "/api/provider-keys/" + card.provider);
      done();
      if (!result.ok) return showProblem(result.problem, fields, id + "-form");
      card = Object.assign({}, card, { configured: false, hint: null, baseUrl: null, status: null, validatedAt: null });
      render();
      say(status.id, "Removed.");
      (urlInput || keyInput).focus();
    }

    render();
    return h("article", { class: "card", id, "aria-labelledby": id + "-title" },
      h("div", { class: "card-head" }, h("h3", { id: id + "-title" }, card.label), badge),
      note, form, status);
  }

  if (document.body.dataset.signedIn === "true") showSignedIn();
})();
`;

/**
 * The client of Settings > API Keys, served as `/settings/api-keys/app.js` (CSP `script-src 'self'`).
 * Plain browser JavaScript, no framework. Data comes from /api with the session cookie; every value
 * goes into the page as text (never as HTML). A full key lives only in the "shown once" field and is
 * cleared when its dialog closes; provider keys are never shown at all.
 *
 * This file is served exactly as written: the Worker imports it as a text module (the `[[rules]]`
 * entry in wrangler.toml), so there is no build step between this source and the browser. It is
 * type-checked with the DOM lib (JSDoc types, `./tsconfig.json`) and linted like the rest of `src/`.
 *
 * Conventions: a control with id X has its error slot `X-error` (see FieldError in the shell).
 */
// biome-ignore lint/suspicious/noRedundantUseStrict: the page loads this as a classic script, which is not strict without it.
"use strict";

/**
 * @typedef {{ path: string, message: string }} FieldMistake
 * @typedef {{ detail: string, code?: string, errors?: FieldMistake[] }} Problem
 * @typedef {{ ok: true, status: number, data: unknown } | { ok: false, status: number, problem: Problem }} ApiResult
 * @typedef {Record<string, string>} FieldIds  request field -> control id
 * @typedef {{ id: string, name: string, start: string, permissions: string[], rateLimit: number,
 *   createdAt: string, lastUsedAt: string | null }} ApiKey
 * @typedef {{ provider: string, label: string, configured: boolean, hint: string | null,
 *   baseUrl: string | null, status: "valid" | "needs_reentry" | null, validatedAt: string | null,
 *   acceptsBaseUrl: boolean, requiresKey: boolean }} ProviderCard
 * @typedef {Node | string | null | undefined | false} Child
 */

(() => {
  /**
   * The element with this id, of this type (HTMLElement unless given). The shell renders every id
   * the script asks for, so a missing one is a bug, reported by name.
   * @template {HTMLElement} [T=HTMLElement]
   * @param {string} id
   * @param {new (...args: never[]) => T} [type]
   * @returns {T}
   */
  function $(id, type) {
    const node = document.getElementById(id);
    if (!(node instanceof (type ?? HTMLElement))) throw new Error(`Settings page: no element #${id}`);
    return /** @type {T} */ (node);
  }

  /**
   * An element with attributes (functions become listeners) and children (nodes or text).
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {Record<string, unknown> | null} attrs
   * @param {...(Child | Child[])} children
   * @returns {HTMLElementTagNameMap[K]}
   */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (typeof value === "function")
        node.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(
      ...children
        .flat()
        .filter(
          /** @returns {child is Node | string} */ (child) =>
            child !== null && child !== undefined && child !== false,
        ),
    );
    return node;
  }

  /** @param {string} id @param {string | undefined | null} text */
  const say = (id, text) => {
    $(id).textContent = text || "";
  };
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  /** @param {string | null} iso */
  const when = (iso) => (iso ? h("time", { datetime: iso }, dateFormat.format(new Date(iso))) : "Never");
  /** @param {unknown} text */
  const sentence = (text) => {
    const s = String(text || "").trim();
    return s.charAt(0).toUpperCase() + s.slice(1);
  };

  /**
   * A same-origin call. Resolves to {ok, status, data} or {ok: false, status, problem}; never throws.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<ApiResult>}
   */
  async function api(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    /** @type {RequestInit} */
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      return {
        ok: false,
        status: 0,
        problem: { detail: "Could not reach VULK. Check your connection and try again." },
      };
    }
    /** @type {any} */
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (response.ok) return { ok: true, status: response.status, data };
    /** @type {Problem} */
    const problem =
      data && typeof data.detail === "string"
        ? data
        : { detail: `Something went wrong (HTTP ${response.status}). Try again.` };
    const retryAfter = response.headers.get("Retry-After");
    if (response.status === 429 && retryAfter) problem.detail += ` Try again in ${retryAfter} seconds.`;
    if (response.status === 401) showSignedOut("Your session has ended. Sign in again.");
    return { ok: false, status: response.status, problem };
  }

  // ---- errors next to the control that caused them ----

  /**
   * Shows (or, without a message, clears) the error of control id; the control is marked invalid.
   * Some slots belong to no control (e.g. `delete-error`): then only the slot changes.
   * @param {string} id
   * @param {string} [message]
   */
  function fieldError(id, message) {
    const slot = $(`${id}-error`);
    slot.textContent = message || "";
    slot.hidden = !message;
    const control = document.getElementById(id);
    if (control instanceof HTMLInputElement) {
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }

  /** @param {ParentNode} container */
  function clearErrors(container) {
    for (const slot of container.querySelectorAll(".field-error")) {
      slot.textContent = "";
      if (slot instanceof HTMLElement) slot.hidden = true;
    }
    for (const control of container.querySelectorAll("[aria-invalid]"))
      control.removeAttribute("aria-invalid");
  }

  /**
   * Places a problem: each errors[].path (400 invalid_request) next to its control, else the control
   * its code belongs to (codeFields); the rest goes to the form's own slot. fields maps request
   * field -> control id. Focus moves to the first control in error, described by the message.
   * @param {Problem} problem
   * @param {FieldIds} fields
   * @param {string} formId
   * @param {Record<string, string>} [codeFields]
   */
  function showProblem(problem, fields, formId, codeFields) {
    /** @type {string[]} */
    const shown = [];
    /** @type {string[]} */
    const unplaced = [];
    for (const error of problem.errors || []) {
      const id = fields[String(error.path).split(".")[0] ?? ""];
      if (!id) unplaced.push(sentence(error.message));
      else if (!shown.includes(id)) {
        fieldError(id, sentence(error.message));
        shown.push(id);
      }
    }
    const byCode = codeFields && problem.code !== undefined && fields[codeFields[problem.code] ?? ""];
    if (byCode && shown.length === 0) {
      fieldError(byCode, problem.detail);
      shown.push(byCode);
    }
    if (shown.length === 0 || unplaced.length > 0) fieldError(formId, unplaced.join(" ") || problem.detail);
    const [firstId] = shown;
    if (firstId !== undefined) {
      const first = $(firstId);
      (first.querySelector("input") || first).focus();
    }
  }

  /**
   * Disables a button while its request runs, saying what happens; returns the undo.
   * @param {HTMLButtonElement} button
   * @param {string} text
   * @returns {() => void}
   */
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

  /**
   * The submit button of a form.
   * @param {HTMLFormElement} form
   * @returns {HTMLButtonElement}
   */
  function submitButton(form) {
    const button = form.querySelector("button[type=submit]");
    if (!(button instanceof HTMLButtonElement))
      throw new Error(`Settings page: #${form.id} has no submit button`);
    return button;
  }

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

  // ---- public API keys ----

  async function loadKeys() {
    const result = await api("GET", "/api/keys?limit=100");
    if (!result.ok) return say("keys-status", result.problem.detail);
    const keys = /** @type {{ data: ApiKey[] }} */ (result.data).data;
    $("keys-body").replaceChildren(...keys.map(keyRow));
    $("keys-table").hidden = keys.length === 0;
    $("keys-empty").hidden = keys.length > 0;
  }

  /** @param {ApiKey} key */
  function keyRow(key) {
    const chips = h(
      "ul",
      { class: "chips" },
      key.permissions.map((permission) => h("li", { class: "chip" }, permission)),
    );
    const remove = h(
      "button",
      {
        type: "button",
        class: "danger-link",
        "aria-label": `Delete ${key.name}`,
        onclick: () => askDelete(key),
      },
      "Delete",
    );
    return h(
      "tr",
      { "data-key-id": key.id },
      h("th", { scope: "row", "data-label": "Name" }, key.name),
      h("td", { "data-label": "Key" }, h("code", {}, key.start)),
      h("td", { "data-label": "Permissions" }, chips),
      h("td", { "data-label": "Rate limit" }, `${key.rateLimit} / min`),
      h("td", { "data-label": "Created" }, when(key.createdAt)),
      h("td", { "data-label": "Last used" }, when(key.lastUsedAt)),
      h("td", { class: "row-actions" }, remove),
    );
  }

  const createDialog = $("create-dialog", HTMLDialogElement);
  const createForm = $("create-form", HTMLFormElement);
  const CREATE_FIELDS = { name: "key-name", permissions: "key-permissions", rateLimit: "key-rate-limit" };

  $("create-key").addEventListener("click", () => {
    createForm.reset();
    clearErrors(createForm);
    createDialog.showModal();
  });

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(createForm);
    const rate = $("key-rate-limit", HTMLInputElement);
    const request = {
      name: $("key-name", HTMLInputElement).value.trim(),
      permissions: Array.from(
        createForm.querySelectorAll("input[name=permissions]:checked"),
        (box) => /** @type {HTMLInputElement} */ (box).value,
      ),
      rateLimit: rate.valueAsNumber,
    };
    // The obvious mistakes in plain words before a round trip; the server's errors land in the same places.
    /** @type {FieldMistake[]} */
    const mistakes = [];
    if (!request.name) mistakes.push({ path: "name", message: "Give the key a name." });
    if (request.permissions.length === 0)
      mistakes.push({ path: "permissions", message: "Choose at least one permission." });
    if (
      !Number.isInteger(request.rateLimit) ||
      request.rateLimit < Number(rate.min) ||
      request.rateLimit > Number(rate.max)
    ) {
      mistakes.push({ path: "rateLimit", message: `Enter a whole number from ${rate.min} to ${rate.max}.` });
    }
    if (mistakes.length > 0)
      return showProblem({ detail: "", errors: mistakes }, CREATE_FIELDS, "create-form");
    const done = busy(submitButton(createForm), "Creating…");
    const result = await api("POST", "/api/keys", request);
    done();
    if (!result.ok) return showProblem(result.problem, CREATE_FIELDS, "create-form");
    showCreatedKey(/** @type {{ key: string }} */ (result.data).key);
    loadKeys();
  });

  /** @param {string} key */
  function showCreatedKey(key) {
    createForm.hidden = true;
    $("created").hidden = false;
    createDialog.setAttribute("aria-labelledby", "created-title");
    $("created-key", HTMLInputElement).value = key;
    say("copy-status", "");
    $("copy-key").focus();
  }

  // The key leaves the page as soon as the dialog closes, however it closes (Done, Cancel, Esc).
  createDialog.addEventListener("close", () => {
    $("created-key", HTMLInputElement).value = "";
    $("created").hidden = true;
    createForm.hidden = false;
    createDialog.setAttribute("aria-labelledby", "create-title");
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

  // ---- provider keys (bring your own model) ----

  /** Codes that belong to one control rather than to the whole card. */
  const PROVIDER_CODE_FIELDS = { provider_rejected_key: "apiKey", invalid_url: "baseUrl" };

  async function loadProviders() {
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

  /** @param {ProviderCard} card */
  function describeSaved(card) {
    const parts = [];
    if (card.hint) parts.push(`Key ending in ${card.hint}`);
    if (card.baseUrl) parts.push(card.baseUrl);
    if (card.validatedAt) parts.push(`checked ${dateFormat.format(new Date(card.validatedAt))}`);
    return parts.join(" · ") || "Saved.";
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
      const reentry = card.status === "needs_reentry";
      badge.textContent = reentry ? "Needs re-entry" : card.configured ? "Configured" : "Not configured";
      badge.className = `badge${reentry ? " warn" : card.configured ? " ok" : ""}`;
      note.textContent = reentry
        ? "The saved key can no longer be read. Enter it again."
        : card.configured
          ? describeSaved(card)
          : "Not set up: VULK credits are used.";
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
      if (urlInput && !request.baseUrl)
        mistakes.push({ path: "baseUrl", message: "Enter the endpoint URL." });
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
      note,
      form,
      status,
    );
  }

  if (document.body.dataset.signedIn === "true") showSignedIn();
})();

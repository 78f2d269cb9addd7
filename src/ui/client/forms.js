/**
 * Talking to /api and showing what it says: a call that never throws, each problem+json error next to
 * the control that caused it, and a button's busy state while its request runs.
 *
 * Convention: a control with id X has its error slot `X-error` (see FieldError in the shell).
 */
import { $, sentence } from "./dom.js";

/**
 * @typedef {{ path: string, message: string }} FieldMistake
 * @typedef {{ detail: string, code?: string, errors?: FieldMistake[] }} Problem
 * @typedef {{ ok: true, status: number, data: unknown } | { ok: false, status: number, problem: Problem }} ApiResult
 * @typedef {Record<string, string>} FieldIds  request field -> control id
 */

/** What a 401 does (the page shows its sign-in): set once by the page with onSignedOut. */
let signedOut = (/** @type {string} */ _message) => {};

/** @param {(message: string) => void} handler */
export function onSignedOut(handler) {
  signedOut = handler;
}

/**
 * A same-origin call. Resolves to {ok, status, data} or {ok: false, status, problem}; never throws.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<ApiResult>}
 */
export async function api(method, path, body) {
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
  if (response.status === 401) signedOut("Your session has ended. Sign in again.");
  return { ok: false, status: response.status, problem };
}

// ---- errors next to the control that caused them ----

/**
 * Shows (or, without a message, clears) the error of control id; the control is marked invalid.
 * Some slots belong to no control (e.g. `delete-error`): then only the slot changes.
 * @param {string} id
 * @param {string} [message]
 */
export function fieldError(id, message) {
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
export function clearErrors(container) {
  for (const slot of container.querySelectorAll(".field-error")) {
    slot.textContent = "";
    if (slot instanceof HTMLElement) slot.hidden = true;
  }
  for (const control of container.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
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
export function showProblem(problem, fields, formId, codeFields) {
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
export function busy(button, text) {
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
export function submitButton(form) {
  const button = form.querySelector("button[type=submit]");
  if (!(button instanceof HTMLButtonElement))
    throw new Error(`Settings page: #${form.id} has no submit button`);
  return button;
}

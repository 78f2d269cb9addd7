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
 *   projects: string[] | null, enabled: boolean, createdAt: string, lastUsedAt: string | null,
 *   expiresAt: string | null, expired: boolean, expiring: boolean, requestsLast24h: number | null }} ApiKey
 * @typedef {{ name: string, permissions: string[], rateLimit: number, projects: string[] | null,
 *   expiresAt: string | null }} KeyRequest  what the key dialog says (a create or an edit)
 * @typedef {{ id: string, name: string }} Project
 * @typedef {{ ok: number, denied: number, limited: number }} UsageCounts
 * @typedef {UsageCounts & { start: string }} UsageBucket
 * @typedef {{ buckets: UsageBucket[], totals: UsageCounts, complete: boolean }} Usage
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
    /** @param {string} label @param {string} name @param {() => void} action @param {Record<string, unknown>} [extra] */
    const action = (label, name, action, extra) =>
      h(
        "button",
        { type: "button", class: "link", "aria-label": `${label} ${name}`, onclick: action, ...extra },
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
        key.requestsLast24h === null ? "Unavailable" : `${key.requestsLast24h} requests`,
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
        action("Edit", key.name, () => openEdit(key)),
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

  // ---- usage of one key: a stacked bar per hour, a legend in words, a table alternative ----

  const SVG_NS = "http://www.w3.org/2000/svg";
  /** The outcomes, in stacking order (bottom first), each drawn with its own fill pattern. */
  const OUTCOMES = /** @type {const} */ ([
    { name: "ok", label: "ok (2xx and other answers)" },
    { name: "denied", label: "denied (401 or 403)" },
    { name: "limited", label: "limited (429)" },
  ]);
  const hourFormat = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const dayHourFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });

  /**
   * An SVG element with attributes and children.
   * @template {keyof SVGElementTagNameMap} K
   * @param {K} tag
   * @param {Record<string, string | number>} attrs
   * @param {...(Node | string)} children
   * @returns {SVGElementTagNameMap[K]}
   */
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    node.append(...children);
    return node;
  }

  /**
   * The fill patterns, one per outcome, so the bars read without colour: solid, stripes, dots.
   * @param {string} prefix unique per chart (pattern ids are document-wide)
   */
  function patternDefs(prefix) {
    const pattern = (/** @type {string} */ name, /** @type {Node[]} */ ...shapes) =>
      svg(
        "pattern",
        { id: `${prefix}-${name}`, width: 6, height: 6, patternUnits: "userSpaceOnUse" },
        ...shapes,
      );
    return svg(
      "defs",
      {},
      pattern("ok", svg("rect", { width: 6, height: 6, fill: "#4338ca" })),
      pattern(
        "denied",
        svg("rect", { width: 6, height: 6, fill: "#fee2e2" }),
        svg("path", { d: "M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2", stroke: "#b91c1c", "stroke-width": 1.6 }),
      ),
      pattern(
        "limited",
        svg("rect", { width: 6, height: 6, fill: "#fef3c7" }),
        svg("circle", { cx: 3, cy: 3, r: 1.5, fill: "#92400e" }),
      ),
    );
  }

  /** @param {UsageBucket} bucket */
  const bucketText = (bucket) =>
    `${hourFormat.format(new Date(bucket.start))} — ${bucket.ok} ok, ${bucket.denied} denied, ${bucket.limited} limited`;

  /**
   * 24 stacked bars; each bar is an image named by its hour and counts.
   * @param {Usage} usage
   * @param {string} prefix
   * @param {string} name
   */
  function usageChart(usage, prefix, name) {
    const pitch = 24;
    const barWidth = 16;
    const plot = 120;
    const top = 14;
    const width = usage.buckets.length * pitch;
    const most = Math.max(1, ...usage.buckets.map((b) => b.ok + b.denied + b.limited));
    const scale = plot / most;
    const bars = usage.buckets.map((bucket, i) => {
      const x = i * pitch + (pitch - barWidth) / 2;
      let y = top + plot;
      const segments = OUTCOMES.flatMap(({ name: outcome }) => {
        const height = bucket[outcome] * scale;
        if (height === 0) return [];
        y -= height;
        return [
          svg("rect", {
            x,
            y,
            width: barWidth,
            height,
            fill: `url(#${prefix}-${outcome})`,
            stroke: "#fff",
            "stroke-width": 1,
            class: `segment ${outcome}`,
          }),
        ];
      });
      const text = bucketText(bucket);
      return svg(
        "g",
        { role: "img", "aria-label": text, class: "bar" },
        svg("title", {}, text),
        // The whole column answers hover, even where the bar is short.
        svg("rect", { x: i * pitch, y: top, width: pitch, height: plot, fill: "transparent" }),
        ...segments,
      );
    });
    const labels = usage.buckets.flatMap((bucket, i) =>
      i % 6 === 0
        ? [
            svg(
              "text",
              { x: i * pitch + pitch / 2, y: top + plot + 14, "text-anchor": "middle" },
              hourFormat.format(new Date(bucket.start)),
            ),
          ]
        : [],
    );
    return svg(
      "svg",
      {
        class: "usage-chart",
        viewBox: `0 0 ${width} ${top + plot + 20}`,
        role: "group",
        "aria-label": `Requests per hour of ${name}, last 24 hours`,
      },
      patternDefs(prefix),
      svg(
        "g",
        { "aria-hidden": "true", class: "axis" },
        svg("text", { x: 0, y: 10 }, `${most} per hour`),
        svg("line", { x1: 0, x2: width, y1: top, y2: top, stroke: "#e5e7eb" }),
        svg("line", { x1: 0, x2: width, y1: top + plot, y2: top + plot, stroke: "#9ca3af" }),
        ...labels,
      ),
      ...bars,
    );
  }

  /** @param {string} prefix */
  function usageLegend(prefix) {
    return h(
      "ul",
      { class: "legend", "aria-label": "Legend" },
      OUTCOMES.map(({ name, label }) =>
        h(
          "li",
          {},
          svg(
            "svg",
            { class: "swatch", viewBox: "0 0 12 12", "aria-hidden": "true" },
            svg("rect", { width: 12, height: 12, fill: `url(#${prefix}-${name})`, stroke: "#6b7280" }),
          ),
          label,
        ),
      ),
    );
  }

  /**
   * The chart's text alternative: every hour with its counts, and the totals.
   * @param {Usage} usage
   * @param {string} name
   */
  function usageTable(usage, name) {
    /** @param {UsageCounts} counts */
    const cells = (counts) => OUTCOMES.map(({ name: outcome }) => h("td", {}, String(counts[outcome])));
    return h(
      "details",
      { class: "usage-details" },
      h("summary", {}, "Show as table"),
      h(
        "table",
        { class: "usage-table" },
        h("caption", {}, `Requests per hour of ${name}, last 24 hours`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Hour"),
            h("th", { scope: "col" }, "OK"),
            h("th", { scope: "col" }, "Denied"),
            h("th", { scope: "col" }, "Limited"),
          ),
        ),
        h(
          "tbody",
          {},
          usage.buckets.map((bucket) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, dayHourFormat.format(new Date(bucket.start))),
              cells(bucket),
            ),
          ),
        ),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), cells(usage.totals))),
      ),
    );
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
    const usage = /** @type {Usage} */ (result.data);
    const prefix = `pattern-${key.id}`;
    const { ok, denied, limited } = usage.totals;
    panel.replaceChildren(
      h("h3", {}, `Usage of ${key.name}, last 24 hours`),
      h(
        "p",
        { class: "usage-totals" },
        h("strong", {}, String(ok + denied + limited)),
        ` requests: ${ok} ok, ${denied} denied, ${limited} limited`,
      ),
      usage.complete
        ? ""
        : h("p", { class: "warning" }, "The most recent hours could not be read right now; they show as 0."),
      usageChart(usage, prefix, key.name),
      usageLegend(prefix),
      usageTable(usage, key.name),
    );
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

  /** @param {ApiKey} key */
  const openEdit = (key) => openKeyDialog(key);

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
    const expiryChanged =
      !editing || expires !== (editing.expiresAt ? localInputValue(editing.expiresAt) : "");
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
    if (!same(request.projects, key.projects && [...key.projects].sort()))
      changes.projects = request.projects;
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

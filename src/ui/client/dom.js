/**
 * Elements for the Settings page, built by script: every value goes in as text or as an attribute
 * value, never as HTML (the page's CSP allows no inline script, and nothing here parses markup).
 */

/** @typedef {Node | string | null | undefined | false} Child */

/**
 * The element with this id, of this type (HTMLElement unless given). The shell renders every id
 * the script asks for, so a missing one is a bug, reported by name.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {new (...args: never[]) => T} [type]
 * @returns {T}
 */
export function $(id, type) {
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
export function h(tag, attrs, ...children) {
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
export const say = (id, text) => {
  $(id).textContent = text || "";
};
export const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
/** @param {string | null} iso */
export const when = (iso) => (iso ? h("time", { datetime: iso }, dateFormat.format(new Date(iso))) : "Never");
/** @param {unknown} text */
export const sentence = (text) => {
  const s = String(text || "").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

/** "1 request", "4 requests". @param {number} count */
export const requests = (count) => `${count} ${count === 1 ? "request" : "requests"}`;

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * An SVG element with attributes and children.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number>} attrs
 * @param {...(Node | string)} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

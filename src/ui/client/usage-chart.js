/**
 * A key's usage over the last 24 hours (GET /api/keys/{id}/usage): a bar per hour stacked into ok,
 * denied and limited, drawn as SVG by script. It reads without colour — each outcome has its own fill
 * (solid, stripes, dots), the legend says each in words, every bar is an image named by its hour and
 * counts — and a table of every hour is its text alternative.
 */
import { h, requests, svg } from "./dom.js";

/**
 * @typedef {{ ok: number, denied: number, limited: number }} UsageCounts
 * @typedef {UsageCounts & { start: string }} UsageBucket
 * @typedef {{ buckets: UsageBucket[], totals: UsageCounts, complete: boolean }} Usage
 */

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
          h("tr", {}, h("th", { scope: "row" }, dayHourFormat.format(new Date(bucket.start))), cells(bucket)),
        ),
      ),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), cells(usage.totals))),
    ),
  );
}

/**
 * Everything the usage panel shows: heading, totals, chart, legend and table.
 * @param {Usage} usage
 * @param {string} prefix unique on the page (the fill patterns' ids derive from it)
 * @param {string} name the key's name
 * @returns {(Node | string)[]}
 */
export function usageView(usage, prefix, name) {
  const { ok, denied, limited } = usage.totals;
  return [
    h("h3", {}, `Usage of ${name}, last 24 hours`),
    h(
      "p",
      { class: "usage-totals" },
      h("strong", {}, requests(ok + denied + limited)),
      `: ${ok} ok, ${denied} denied, ${limited} limited`,
    ),
    usage.complete
      ? ""
      : h("p", { class: "warning" }, "The most recent hours could not be read right now; they show as 0."),
    usageChart(usage, prefix, name),
    usageLegend(prefix),
    usageTable(usage, name),
  ];
}

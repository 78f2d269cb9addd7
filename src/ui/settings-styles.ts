/** The stylesheet of Settings > API Keys, served as `/settings/api-keys/app.css` (CSP `style-src 'self'`). */
export const SETTINGS_STYLES = `:root {
  color-scheme: light;
  --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --panel: #fff;
  --accent: #4338ca; --danger: #b91c1c; --ok: #065f46; --warn: #92400e;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); }
code, .chip, #created-key { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { font-size: .9em; }
p { margin: .25rem 0 .75rem; }
h1 { font-size: 1.6rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .25rem; }
h3 { font-size: 1rem; margin: 0; }
.muted { color: var(--muted); }
.sr-only {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}

.topbar { display: flex; gap: 1rem; align-items: baseline; padding: .7rem 1.25rem; background: #111827; color: #f9fafb; }
.brand { font-weight: 700; letter-spacing: .12em; }
.crumbs { color: #d1d5db; }
main { max-width: 72rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 1.25rem; margin-bottom: 1.5rem; }
.section-head { display: flex; flex-wrap: wrap; gap: .75rem 1rem; justify-content: space-between; align-items: flex-start; }
.status { margin: .5rem 0; color: var(--muted); }
.status:empty { margin: 0; }
.empty { color: var(--muted); margin: 1rem 0 0; }

button {
  font: inherit; cursor: pointer; border-radius: 8px; padding: .45rem .9rem;
  border: 1px solid var(--accent); background: var(--accent); color: #fff;
}
button.secondary { background: #fff; color: var(--fg); border-color: #d1d5db; }
button.danger { background: var(--danger); border-color: var(--danger); }
button.danger-link { background: none; border-color: transparent; color: var(--danger); padding: .2rem .5rem; }
button.link { background: none; border-color: transparent; color: var(--accent); padding: .2rem .5rem; }
button.link[aria-expanded="true"] { text-decoration: underline; }
button:disabled { opacity: .65; cursor: progress; }
:focus-visible { outline: 3px solid #818cf8; outline-offset: 2px; }

label { display: block; font-weight: 600; margin-bottom: .25rem; }
input {
  font: inherit; width: 100%; padding: .45rem .6rem; color: var(--fg); background: #fff;
  border: 1px solid #c4c9d2; border-radius: 8px;
}
input[type="checkbox"], input[type="radio"] { width: 1.1rem; height: 1.1rem; margin: .2rem .6rem 0 0; flex: none; }
input[aria-invalid="true"] { border-color: var(--danger); }
.field { margin-bottom: 1rem; }
.field-error { color: var(--danger); font-size: .9rem; margin: .35rem 0 0; }
fieldset { border: 1px solid var(--line); border-radius: 8px; padding: .5rem .9rem .75rem; margin: 0 0 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.check { display: flex; align-items: flex-start; margin: .4rem 0; }
.check label { font-weight: 400; margin: 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; justify-content: flex-end; margin-top: 1rem; }
.inline-form { max-width: 24rem; }

table.keys { width: 100%; border-collapse: collapse; margin-top: .75rem; }
.keys th, .keys td { text-align: left; padding: .6rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.keys thead th { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.keys tbody th { font-weight: 600; }
.chips { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; }
.chip { background: #eef2ff; color: #3730a3; border-radius: 999px; padding: 0 .55rem; font-size: .8rem; }
.keys .row-actions { text-align: right; white-space: nowrap; }
.keys .key-name { margin-right: .4rem; }
.keys tbody th .badge { display: inline-block; margin: .1rem .25rem 0 0; }
.keys tr.is-disabled .key-name, .keys tr.is-disabled code { color: var(--muted); text-decoration: line-through; }
.projects-cell { max-width: 12rem; overflow-wrap: anywhere; }
.project-choices { margin: .25rem 0 0 1.7rem; }

.usage-row td { background: #fafafa; }
.usage { padding: .25rem .25rem .5rem; }
.usage h3 { margin-bottom: .25rem; }
.usage-chart { display: block; width: 100%; max-width: 44rem; height: auto; margin: .5rem 0; }
.usage-chart .axis text { font-size: 9px; fill: var(--muted); }
.usage-chart .bar:hover rect:first-of-type { fill: #eef2ff; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 0 0 .5rem; padding: 0; font-size: .9rem; }
.legend li { display: flex; align-items: center; gap: .4rem; }
.swatch { width: 1rem; height: 1rem; flex: none; }
.usage-details summary { cursor: pointer; color: var(--accent); }
table.usage-table { border-collapse: collapse; margin-top: .5rem; font-size: .9rem; }
.usage-table caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
.usage-table th, .usage-table td { padding: .15rem .75rem .15rem 0; text-align: right; border-bottom: 1px solid var(--line); }
.usage-table th[scope="row"], .usage-table thead th:first-child { text-align: left; }
.usage-table tfoot th, .usage-table tfoot td { font-weight: 700; }

.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(16.5rem, 1fr)); gap: 1rem; margin-top: 1rem; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 1rem; }
.card-head { display: flex; justify-content: space-between; gap: .5rem; align-items: baseline; }
.card-note { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
.card-alert { color: var(--danger); font-size: .9rem; margin: .25rem 0; }
.card .actions { justify-content: flex-start; margin-top: .5rem; }
.card .field { margin-bottom: .75rem; }
.badge { font-size: .75rem; border-radius: 999px; padding: .05rem .6rem; background: #f3f4f6; color: #374151; white-space: nowrap; }
.badge.ok { background: #d1fae5; color: var(--ok); }
.badge.warn { background: #fef3c7; color: var(--warn); }
.badge.danger { background: #fee2e2; color: var(--danger); }

.activity { list-style: none; margin: .5rem 0 0; padding: 0; }
.activity-item { display: flex; flex-wrap: wrap; gap: .15rem 1rem; justify-content: space-between; padding: .55rem 0; border-top: 1px solid var(--line); }
.activity-item:first-child { border-top: none; }
.activity-text { overflow-wrap: anywhere; }
.activity-item[data-action="key.leaked"] .activity-text, .activity-item[data-action="deploy.secrets_blocked"] .activity-text { color: var(--danger); }
.activity-when { font-size: .9rem; white-space: nowrap; }

dialog {
  border: none; border-radius: 12px; padding: 1.5rem; color: var(--fg);
  width: min(32rem, calc(100vw - 2rem)); box-shadow: 0 20px 50px rgb(0 0 0 / 25%);
}
dialog::backdrop { background: rgb(17 24 39 / 55%); }
.warning { background: #fffbeb; border: 1px solid #fcd34d; color: #78350f; border-radius: 8px; padding: .6rem .8rem; }
.copy-row { display: flex; gap: .5rem; }

@media (max-width: 720px) {
  main { padding: 1rem .75rem 2rem; }
  .panel { padding: 1rem; }
  .keys thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .keys, .keys tbody, .keys tr { display: block; }
  .keys tr { border: 1px solid var(--line); border-radius: 10px; padding: .5rem .75rem; margin-bottom: .75rem; }
  .keys th, .keys td { display: grid; grid-template-columns: 6.5rem 1fr; gap: .5rem; border: none; padding: .2rem 0; }
  .keys [data-label]::before { content: attr(data-label); color: var(--muted); font-size: .85rem; font-weight: 400; }
  .keys .row-actions { display: block; text-align: left; white-space: normal; }
  .keys tr.usage-row { padding: 0; }
  .keys .usage-row td { display: block; }
  .copy-row { flex-direction: column; }
}
`;

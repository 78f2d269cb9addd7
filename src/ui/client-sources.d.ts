/**
 * What the Worker sees when it imports a file of `src/ui/client/`: its source text, as a string (a
 * Text module, by the `[[rules]]` entry in wrangler.toml). The browser gets those bytes unchanged.
 * Declared here rather than beside each file, where a `.d.ts` would also shadow the real module for
 * the client's own type-check (`src/ui/client/tsconfig.json`), which resolves the files' imports of
 * each other.
 */
declare module "*/ui/client/settings.js" {
  const source: string;
  export default source;
}
declare module "*/ui/client/dom.js" {
  const source: string;
  export default source;
}
declare module "*/ui/client/activity.js" {
  const source: string;
  export default source;
}
declare module "*/ui/client/forms.js" {
  const source: string;
  export default source;
}
declare module "*/ui/client/providers.js" {
  const source: string;
  export default source;
}
declare module "*/ui/client/usage-chart.js" {
  const source: string;
  export default source;
}

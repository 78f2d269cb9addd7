/**
 * What the Worker sees when it imports `settings.js`: its source text, as a string (a Text module,
 * by the `[[rules]]` entry in wrangler.toml). The browser gets those bytes unchanged.
 */
declare const source: string;
export default source;

// Design (b) of the simulator (docs/SCALING.md#designs): inside this isolate only, the key check's
// limiter module (src/limits/sliding-window.ts) resolves to multi-region-window.ts instead.
const LIMITER = "/src/limits/sliding-window.ts";
const REPLACEMENT = new URL("./multi-region-window.ts", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.endsWith(LIMITER) && context.parentURL !== REPLACEMENT) {
    return { ...resolved, url: REPLACEMENT };
  }
  return resolved;
}

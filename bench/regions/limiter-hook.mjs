// Design (b) of the simulator (docs/SCALING.md#designs): inside one isolate only, the key check's
// limiter module (src/limits/sliding-window.ts) resolves to its replacement (multi-region-window.ts).
const LIMITER = "/src/limits/sliding-window.ts";
let replacement = "";

export function initialize(data) {
  replacement = data.replacement;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.endsWith(LIMITER) && context.parentURL !== replacement) {
    return { ...resolved, url: replacement };
  }
  return resolved;
}

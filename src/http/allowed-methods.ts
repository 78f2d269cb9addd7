/**
 * Which methods a path has, from the app's registered routes: a known path asked with another
 * method is 405 with `Allow`, not 404 (docs/DESIGN.md#api-conventions). Pure.
 */

export interface RegisteredRoute {
  method: string;
  path: string;
}

const pattern = (path: string) =>
  new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}$`);

interface CompiledRoute {
  method: string;
  matches: RegExp;
}

/** Compiled once per route list (a 404 must not build a RegExp per route); rebuilt if the list grows. */
const compiled = new WeakMap<readonly RegisteredRoute[], { length: number; routes: CompiledRoute[] }>();

function compile(routes: readonly RegisteredRoute[]): CompiledRoute[] {
  const known = compiled.get(routes);
  if (known && known.length === routes.length) return known.routes;
  const fresh = routes
    // Middleware (`ALL`, wildcard paths) is not a route.
    .filter((route) => route.method !== "ALL" && !route.path.includes("*"))
    .map((route) => ({ method: route.method, matches: pattern(route.path) }));
  compiled.set(routes, { length: routes.length, routes: fresh });
  return fresh;
}

/**
 * The methods routes answer for `path`, `HEAD` with every `GET` (Hono answers it), sorted;
 * empty when no route has the path.
 */
export function allowedMethods(routes: readonly RegisteredRoute[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of compile(routes)) {
    if (!route.matches.test(path)) continue;
    methods.add(route.method);
    if (route.method === "GET") methods.add("HEAD");
  }
  return [...methods].sort();
}

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

/**
 * The methods routes answer for `path`, `HEAD` with every `GET` (Hono answers it), sorted;
 * empty when no route has the path. Middleware (`ALL`, wildcard paths) is not a route.
 */
export function allowedMethods(routes: readonly RegisteredRoute[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    if (!pattern(route.path).test(path)) continue;
    methods.add(route.method);
    if (route.method === "GET") methods.add("HEAD");
  }
  return [...methods].sort();
}

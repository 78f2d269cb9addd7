/**
 * A programmable HTTP server on 127.0.0.1 standing in for third-party endpoints the Worker fetches
 * (e.g. GitHub's secret-scanning key list), so tests never leave this machine.
 *
 * - `POST /__fixture/routes` `{path, status, headers?, body}` → what `GET <path>` answers from now on
 *   (`body`: a string is sent as is, anything else as JSON).
 * - `GET /__fixture/hits` → `{<path>: count}` of requests served outside `/__fixture/`.
 * Anything else not programmed → 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FixtureServer {
  url: string;
  close(): Promise<void>;
}

interface FixtureResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const CONTROL_BODY_LIMIT = 1024 * 1024;

export async function startFixtureServer(): Promise<FixtureServer> {
  const routes = new Map<string, FixtureResponse>();
  const hits = new Map<string, number>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://fixture").pathname;
    if (path === "/__fixture/routes" && req.method === "POST") {
      const route = parseRoute(await readBody(req));
      if (typeof route === "string") return send(res, 400, { error: route });
      routes.set(route.path, route.response);
      return send(res, 204, null);
    }
    if (path === "/__fixture/hits" && req.method === "GET") return send(res, 200, Object.fromEntries(hits));
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const response = routes.get(path);
    if (!response || req.method !== "GET")
      return send(res, 404, { error: `no fixture for ${req.method} ${path}` });
    res.writeHead(response.status, response.headers).end(response.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The programmed route, or why the request is not one. */
function parseRoute(text: string): { path: string; response: FixtureResponse } | string {
  let input: { path?: unknown; status?: unknown; headers?: unknown; body?: unknown };
  try {
    input = JSON.parse(text) as typeof input;
  } catch {
    return "body must be JSON";
  }
  const { path, status, headers = {}, body = "" } = input;
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("/__fixture/")) {
    return "path must start with / and be outside /__fixture/";
  }
  if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
    return "status must be an HTTP status";
  }
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
    return "headers must be an object";
  }
  const isText = typeof body === "string";
  return {
    path,
    response: {
      status,
      headers: {
        ...(isText ? {} : { "Content-Type": "application/json" }),
        ...Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)])),
      },
      body: isText ? body : JSON.stringify(body),
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > CONTROL_BODY_LIMIT) req.destroy(new Error("control body too large"));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  if (body === null) return void res.writeHead(status).end();
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

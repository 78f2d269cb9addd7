/**
 * A stand-in for the model providers, on 127.0.0.1 and [::1] (same port): each provider's check
 * endpoint with its real success and error shapes, a streaming completion endpoint, and a record of
 * every request it received. Keys decide the answer: containing "good" → accepted, "down" → the
 * connection is dropped, anything else → the provider's "invalid key" answer (which, like the real
 * ones, echoes part of the key — the app must never pass that body on). A good key can be revoked
 * (`POST /__fake/revoke` with the key as the body): from then on it gets the "invalid key" answer,
 * as a key deleted in the provider's console does.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

export interface FakeProviders {
  url: string;
  port: number;
  close(): Promise<void>;
}

type Json = Record<string, unknown> | unknown[];
interface ProviderShape {
  check: string;
  credential(headers: http.IncomingHttpHeaders): string | undefined;
  accepted: Json;
  rejected(key: string): { status: number; body: Json };
}

const bearer = (h: http.IncomingHttpHeaders) => h.authorization?.replace(/^Bearer /, "");
const openAiError = (key: string) => ({
  status: 401,
  body: {
    error: {
      message: `Incorrect API key provided: ${key}`,
      type: "invalid_request_error",
      code: "invalid_api_key",
    },
  },
});
const modelList = { object: "list", data: [{ id: "model-1", object: "model" }] };

/** Path prefixes as configured through PROVIDER_BASE_URLS (see baseUrlsFor). */
const SHAPES: Record<string, ProviderShape> = {
  "/openai/v1": { check: "/models", credential: bearer, accepted: modelList, rejected: openAiError },
  "/deepseek": { check: "/models", credential: bearer, accepted: modelList, rejected: openAiError },
  "/groq/openai/v1": { check: "/models", credential: bearer, accepted: modelList, rejected: openAiError },
  "/mistral/v1": {
    check: "/models",
    credential: bearer,
    accepted: modelList,
    rejected: (k) => ({ status: 401, body: { message: `Unauthorized ${k}` } }),
  },
  "/together/v1": {
    check: "/models",
    credential: bearer,
    accepted: [{ id: "model-1" }],
    rejected: openAiError,
  },
  "/fireworks/inference/v1": {
    check: "/models",
    credential: bearer,
    accepted: modelList,
    rejected: (k) => ({ status: 403, body: { error: `forbidden for ${k}` } }),
  },
  "/anthropic": {
    check: "/v1/models",
    credential: (h) =>
      h["anthropic-version"] === "2023-06-01" ? (h["x-api-key"] as string | undefined) : undefined,
    accepted: { data: [{ id: "claude", type: "model" }], has_more: false },
    rejected: (k) => ({
      status: 401,
      body: { type: "error", error: { type: "authentication_error", message: `invalid x-api-key ${k}` } },
    }),
  },
  "/gemini": {
    check: "/v1beta/models",
    credential: (h) => h["x-goog-api-key"] as string | undefined,
    accepted: { models: [{ name: "models/gemini" }] },
    rejected: (k) => ({
      status: 400,
      body: {
        error: {
          code: 400,
          message: `API key not valid: ${k}`,
          status: "INVALID_ARGUMENT",
          details: [{ reason: "API_KEY_INVALID" }],
        },
      },
    }),
  },
  "/ollama": {
    check: "/api/version",
    credential: (h) => bearer(h) ?? "good-no-token",
    accepted: { version: "0.5.7" },
    rejected: openAiError,
  },
  "/custom/v1": {
    check: "/models",
    credential: (h) => bearer(h) ?? "good-no-token",
    accepted: modelList,
    rejected: openAiError,
  },
  "/not-openai": { check: "/models", credential: () => "good", accepted: [], rejected: openAiError },
};

/** PROVIDER_BASE_URLS for the built-in providers, all pointed at the fake. */
export function baseUrlsFor(url: string): Record<string, string> {
  return {
    openai: `${url}/openai/v1`,
    anthropic: `${url}/anthropic`,
    gemini: `${url}/gemini`,
    deepseek: `${url}/deepseek`,
    groq: `${url}/groq/openai/v1`,
    mistral: `${url}/mistral/v1`,
    together: `${url}/together/v1`,
    fireworks: `${url}/fireworks/inference/v1`,
  };
}

function send(res: http.ServerResponse, status: number, body: Json | string, type = "application/json") {
  res.writeHead(status, { "Content-Type": type });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

export async function startFakeProviders(): Promise<FakeProviders> {
  const requests: RecordedRequest[] = [];
  const revoked = new Set<string>();
  const accepts = (key: string) => key.includes("good") && !revoked.has(key);
  let releaseStream: (() => void) | undefined;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/__fake/")) return control(path, req, res);
    requests.push({ method: req.method ?? "GET", path, headers: req.headers as Record<string, string> });

    if (req.method === "POST" && path === "/openai/v1/chat/completions") return complete(req, res);
    if (path === "/redirect/v1/models") {
      res.writeHead(302, { Location: "http://127.0.0.1:9/elsewhere" });
      return res.end();
    }
    for (const [prefix, shape] of Object.entries(SHAPES)) {
      if (path !== prefix + shape.check) continue;
      const key = shape.credential(req.headers) ?? "";
      if (key.includes("down")) return req.socket.destroy();
      if (accepts(key)) return send(res, 200, shape.accepted);
      const { status, body } = shape.rejected(key);
      return send(res, status, body);
    }
    send(res, 404, { error: "not found" });
  };

  /**
   * A chat completion: `stream: true` sends one chunk now and the rest only once the test has read
   * it and released the stream; model "missing" is OpenAI's 404, "region-locked" its 403,
   * "scope-limited" the 401 of a restricted key lacking a scope; anything else a JSON completion.
   */
  const complete = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const key = bearer(req.headers) ?? "";
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!accepts(key)) return send(res, 401, openAiError(key).body);
    let body: { model?: string; stream?: boolean } = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return send(res, 400, { error: { message: "We could not parse the JSON body of your request." } });
    }
    if (body.model === "scope-limited") {
      const message = "You have insufficient permissions for this operation. Missing scopes: model.request.";
      return send(res, 401, { error: { message, type: "invalid_request_error", code: null } });
    }
    if (body.model === "region-locked") {
      const message = "Country, region, or territory not supported";
      return send(res, 403, { error: { message, code: "unsupported_country_region_territory" } });
    }
    if (body.model === "missing") {
      const message = "The model `missing` does not exist or you do not have access to it.";
      return send(res, 404, { error: { message, type: "invalid_request_error", code: "model_not_found" } });
    }
    if (!body.stream) {
      return send(res, 200, {
        object: "chat.completion",
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: "hello" } }],
      });
    }
    res.writeHead(200, { "Content-Type": "text/event-stream", "Set-Cookie": "tracking=1" });
    res.write("data: first\n\n");
    releaseStream = () => res.end("data: second\n\n");
  };

  const control = (path: string, req: http.IncomingMessage, res: http.ServerResponse) => {
    if (path === "/__fake/requests") return send(res, 200, requests);
    if (path === "/__fake/reset") {
      requests.length = 0;
      return send(res, 200, { ok: true });
    }
    if (path === "/__fake/revoke") {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        revoked.add(Buffer.concat(chunks).toString("utf8"));
        send(res, 200, { ok: true });
      });
      return;
    }
    if (path === "/__fake/release") {
      releaseStream?.();
      releaseStream = undefined;
      return send(res, 200, { ok: true });
    }
    req.resume();
    send(res, 404, { error: "unknown control" });
  };

  const v4 = http.createServer(handler);
  await new Promise<void>((resolve) => v4.listen(0, "127.0.0.1", resolve));
  const port = (v4.address() as AddressInfo).port;
  const v6 = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    v6.once("error", reject);
    v6.listen(port, "::1", resolve);
  });
  const closeServer = (server: http.Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      await Promise.all([closeServer(v4), closeServer(v6)]);
    },
  };
}

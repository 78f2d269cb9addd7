/** The closed set of error codes (docs/DESIGN.md#error-codes), each with its status and title. */
export const ERRORS = {
  invalid_request: { status: 400, title: "Invalid request" },
  invalid_url: { status: 400, title: "Invalid URL" },
  missing_key: { status: 401, title: "Missing API key" },
  malformed_key: { status: 401, title: "Malformed API key" },
  invalid_key: { status: 401, title: "Invalid API key" },
  key_revoked: { status: 401, title: "API key revoked" },
  key_expired: { status: 401, title: "API key expired" },
  key_disabled: { status: 401, title: "API key disabled" },
  invalid_session: { status: 401, title: "Invalid session" },
  invalid_signature: { status: 401, title: "Invalid signature" },
  missing_permission: { status: 403, title: "Missing permission" },
  csrf_rejected: { status: 403, title: "Cross-site request rejected" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  key_limit_reached: { status: 409, title: "Key limit reached" },
  conflict: { status: 409, title: "Conflict" },
  quota_exceeded: { status: 409, title: "Quota exceeded" },
  needs_reentry: { status: 409, title: "Provider key must be entered again" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  provider_rejected_key: { status: 422, title: "Provider rejected the key" },
  secrets_in_files: { status: 422, title: "Secrets in files" },
  rate_limited: { status: 429, title: "Rate limit exceeded" },
  internal_error: { status: 500, title: "Internal error" },
  provider_unreachable: { status: 502, title: "Provider unreachable" },
  service_unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

export interface ApiErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members placed in the problem body (RFC 9457 extensions). */
  extensions?: Record<string, unknown>;
  /** Never on the wire: goes to the log only. */
  internal?: unknown;
}

/** What a problem+json answer is made of: an ApiError, or a plain expected denial (no stack). */
export interface Problem {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly options: ApiErrorOptions;
}

/**
 * An expected refusal on the hot path (a 401/403/429 of the key check, a 404), as plain data: building an
 * Error captures a stack, ~70× the cost of the object, which matters for floods of bad requests.
 */
export function denial(code: ErrorCode, detail: string, options: ApiErrorOptions = {}): Problem {
  return { code, status: ERRORS[code].status, detail, options };
}

/** The one error the app throws on purpose. `detail` is shown to the caller, so never put secrets in it. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string = ERRORS[code].title,
    readonly options: ApiErrorOptions = {},
  ) {
    super(`${code}: ${detail}`);
    this.status = ERRORS[code].status;
  }
}

const PROBLEM_TYPE_BASE = "https://vulk.dev/docs/errors/";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problemBody(error: Problem, requestId: string): ProblemBody {
  const { title, status } = ERRORS[error.code];
  return {
    ...error.options.extensions,
    type: PROBLEM_TYPE_BASE + error.code,
    title,
    status,
    code: error.code,
    detail: error.detail,
    requestId,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
  };
}

/** A problem+json Response (RFC 9457); `WWW-Authenticate` is added to every 401. */
export function problemResponse(error: Problem, requestId: string, headers?: HeadersInit): Response {
  const response = new Response(JSON.stringify(problemBody(error, requestId)), {
    status: error.status,
    headers,
  });
  response.headers.set("Content-Type", "application/problem+json");
  response.headers.set("X-Request-Id", requestId);
  for (const [name, value] of Object.entries(error.options.headers ?? {})) response.headers.set(name, value);
  if (error.status === 401 && !response.headers.has("WWW-Authenticate")) {
    response.headers.set("WWW-Authenticate", `Bearer error="${error.code}"`);
  }
  return response;
}

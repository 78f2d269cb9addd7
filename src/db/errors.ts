/** Classifies errors from the Neon client (possibly wrapped by Drizzle in `cause`). */

function* causes(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; current && depth < 5; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** The database could not be reached or did not answer in time: a 503, not a 500. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of causes(error)) {
    if (!(e instanceof Error)) continue;
    if (e.name === "AbortError" || e.name === "TimeoutError") return true;
    if (/^(Error connecting to database|Server error \(HTTP status)/.test(e.message)) return true;
  }
  return false;
}

/** The SQLSTATE of a Postgres error, when the database answered with one. */
export function sqlState(error: unknown): string | undefined {
  for (const e of causes(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** What a log line may say about a database error: never its message, query parameters or detail. */
export interface DbErrorDescription {
  /** The outermost class (e.g. `DrizzleQueryError`) and the driver's (e.g. `NeonDbError`). */
  class: string;
  cause?: string;
  sqlState?: string;
  constraint?: string;
  /** The statement's verb and first table, e.g. `insert project_files` — no values. */
  query?: string;
}

const DRIVER_ERRORS = new Set(["NeonDbError", "DrizzleQueryError", "DatabaseError"]);

/** True when `error` (or a cause) came from the database client, so its text may carry values. */
export function isDatabaseError(error: unknown): boolean {
  for (const e of causes(error)) {
    if (!(e instanceof Error)) continue;
    if (DRIVER_ERRORS.has(e.name) || DRIVER_ERRORS.has(e.constructor.name)) return true;
    if ("query" in e && "params" in e) return true;
  }
  return false;
}

/**
 * A database error as the logs may carry it (docs/DESIGN.md#api-conventions): Drizzle's message is
 * `Failed query: … params: …` and Postgres's `detail` repeats the values of a violated key — owner
 * ids, project names, ciphertexts — so neither is kept.
 */
export function describeDbError(error: unknown): DbErrorDescription {
  const chain = [...causes(error)];
  const described: DbErrorDescription = { class: className(chain[0]) };
  const driver = chain.slice(1).find((e) => e instanceof Error);
  if (driver) described.cause = className(driver);
  const state = sqlState(error);
  if (state) described.sqlState = state;
  for (const e of chain) {
    const { constraint, query } = e as { constraint?: unknown; query?: unknown };
    if (!described.constraint && typeof constraint === "string" && /^[\w.$-]{1,128}$/.test(constraint)) {
      described.constraint = constraint;
    }
    if (!described.query && typeof query === "string") {
      const name = queryName(query);
      if (name) described.query = name;
    }
  }
  return described;
}

function className(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  if (error.name !== "Error") return error.name;
  // Drizzle's error sets no `name`, and the deployed bundle does not keep class names (wrangler.toml).
  if ("query" in error && "params" in error) return "DrizzleQueryError";
  return error.constructor.name;
}

/** `insert into "project_files" (…) values ($1, …)` → `insert project_files`; else the verb alone. */
function queryName(query: string): string | undefined {
  const match = /^\s*(select\b.*?\bfrom|insert\s+into|update|delete\s+from)\s+"?([A-Za-z_][\w]*)"?/is.exec(
    query,
  );
  if (match?.[1] && match[2]) return `${match[1].split(/\s+/)[0]?.toLowerCase()} ${match[2]}`;
  const verb = /^\s*([A-Za-z]+)/.exec(query)?.[1];
  return verb ? verb.toLowerCase() : undefined;
}

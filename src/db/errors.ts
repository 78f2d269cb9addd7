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

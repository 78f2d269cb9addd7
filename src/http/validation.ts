import type { Hook } from "@hono/zod-openapi";
import { unstorableStrings } from "../lib/text";
import type { AppEnv } from "./app-env";
import { ApiError, type FieldError } from "./errors";

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** Zod issues as `[{path, message}]`; paths outside the body are prefixed with where they came from. */
export function fieldErrors(issues: readonly Issue[], target?: string): FieldError[] {
  const prefix = target && target !== "json" ? `${target}.` : "";
  return issues.map((issue) => ({
    path: prefix + (issue.path.map(String).join(".") || "(root)"),
    message: issue.message,
  }));
}

/**
 * Input that passed its schema may still hold text Postgres cannot store (U+0000, an unpaired
 * surrogate): that is a 400 too, never the database's 500 (docs/DESIGN.md#api-conventions).
 */
export function assertStorable(value: unknown, target?: string): void {
  const issues = unstorableStrings(value);
  if (issues.length === 0) return;
  throw new ApiError("invalid_request", "The request holds text that cannot be stored; see errors.", {
    errors: fieldErrors(issues, target),
  });
}

/** The one validation hook: every invalid input becomes 400 `invalid_request` with `errors`. */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input shape.
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (result.success) return assertStorable(result.data, result.target);
  const errors = fieldErrors(result.error.issues, result.target);
  throw new ApiError("invalid_request", "The request is not valid; see errors.", { errors });
};

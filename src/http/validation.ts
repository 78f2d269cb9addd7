import type { Hook } from "@hono/zod-openapi";
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

/** The one validation hook: every invalid input becomes 400 `invalid_request` with `errors`. */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input shape.
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (result.success) return;
  const errors = fieldErrors(result.error.issues, result.target);
  throw new ApiError("invalid_request", "The request is not valid; see errors.", { errors });
};

import { z } from "@hono/zod-openapi";
import { ERRORS } from "./errors";

/** RFC 9457 problem body, as every error response carries it. */
export const ProblemSchema = z
  .object({
    type: z.url(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(Object.keys(ERRORS) as [keyof typeof ERRORS, ...(keyof typeof ERRORS)[]]),
    detail: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/** Response entries for the given error statuses, all problem+json. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: Object.values(ERRORS)
          .filter((e) => e.status === status)
          .map((e) => e.title)
          .join(" · "),
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );
}

/** A JSON request or response body of this schema, for route definitions. */
export const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

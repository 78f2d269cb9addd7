import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Permission } from "../../domain/permissions";
import type { AppEnv } from "../../http/app-env";
import { ApiError } from "../../http/errors";
import { BODY_LIMITS, jsonBodyRules } from "../../http/middleware";
import { UUID } from "../../http/pagination";
import { problemResponses } from "../../http/schemas";
import { requireKey } from "../../verify/middleware";

/** The key check first (401 → 429 → 403), then the body rules (415/413), then validation. */
export const keyCheck = (permission: Permission | null) => [requireKey(permission)];
export const keyCheckThenBody = (permission: Permission) => [
  requireKey(permission),
  jsonBodyRules(BODY_LIMITS.v1),
];

/** Every /v1 route: bearer API key. */
export const v1Route = { security: [{ apiKey: [] }] };
export const V1_ERRORS = [401, 403, 429, 503] as const;
export const v1Problems = (...more: number[]) => problemResponses(...V1_ERRORS, ...more);

export const ProjectIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});

/** Another owner's resource and a malformed id are answered exactly like a missing one. */
export function resourceId(id: string, what: string): string {
  if (!UUID.test(id)) throw new ApiError("not_found", `No such ${what}.`);
  return id.toLowerCase();
}

export const ownerOf = (c: Context<AppEnv>) => c.get("apiKey").ownerId;
export const dbOf = (c: Context<AppEnv>) => c.get("stores").db;

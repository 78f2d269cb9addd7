import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Permission } from "../../domain/permissions";
import type { AppEnv } from "../../http/app-env";
import { ApiError } from "../../http/errors";
import { BODY_LIMITS, jsonBodyRules } from "../../http/middleware";
import { UUID } from "../../http/pagination";
import { problemResponses } from "../../http/schemas";
import { SECRET_KINDS } from "../../scanning/source-scan";
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

/**
 * A project id the calling key may reach: outside its scope (docs/DESIGN.md#project-scope) is
 * answered exactly like a missing project. Decided from the cached key row: no I/O.
 */
export function projectIdOf(c: Context<AppEnv>, id: string): string {
  const projectId = resourceId(id, "project");
  const scope = c.get("apiKey").projects;
  if (scope && !scope.includes(projectId)) throw new ApiError("not_found", "No such project.");
  return projectId;
}

/** A key scoped to some projects cannot make new ones: they would be outside its own scope. */
export function refuseScopedCreate(c: Context<AppEnv>): void {
  if (c.get("apiKey").projects === null) return;
  throw new ApiError(
    "missing_permission",
    "This key is limited to specific projects, so it cannot create projects; use a key for all projects.",
  );
}

export const scopeOf = (c: Context<AppEnv>) => c.get("apiKey").projects;
export const ownerOf = (c: Context<AppEnv>) => c.get("apiKey").ownerId;

/** Where a secret is in a project's files — never the secret (docs/DESIGN.md#secrets-in-files). */
export const SecretFindingSchema = z
  .object({ path: z.string(), line: z.number().int(), kind: z.enum(SECRET_KINDS) })
  .openapi("SecretFinding");
export const WarningsSchema = z.array(SecretFindingSchema).openapi({
  description: "Secrets found in the files written: a deployment of them would be refused",
});

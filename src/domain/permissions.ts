/** The closed set of public API key permissions (docs/DESIGN.md#api-keys). */
export const PERMISSIONS = ["projects:read", "projects:write", "deploy:write", "export:read"] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const PERMISSION_DESCRIPTIONS: Record<Permission, string> = {
  "projects:read": "List and view projects",
  "projects:write": "Create and edit projects",
  "deploy:write": "Deploy projects to live URLs",
  "export:read": "Download project source",
};

/** Requests per minute a key may make (docs/DESIGN.md#api-keys). */
export const RATE_LIMIT = { min: 10, max: 1000, default: 60 } as const;

/** Requests per minute across all keys of one owner (docs/DESIGN.md#account-limit). */
export const ACCOUNT_RATE_LIMIT = { min: 10, max: 1_000_000, default: 2000 } as const;

/** A key scoped to projects names at most this many (docs/DESIGN.md#project-scope). */
export const MAX_KEY_PROJECTS = 100;

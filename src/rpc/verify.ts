import type { Config } from "../config/env";
import { PERMISSIONS, type Permission } from "../domain/permissions";
import type { ErrorCode } from "../http/errors";
import type { Logger } from "../observability/logger";
import { verify } from "../verify/verifier";

export interface VerifyResult {
  valid: boolean;
  /** Why not, with the same codes as HTTP (`null` when valid). */
  code: ErrorCode | null;
  keyId: string | null;
  ownerId: string | null;
  permissions: Permission[];
  /** `reset` in unix seconds. */
  ratelimit: { limit: number; remaining: number; reset: number };
}

/**
 * RPC `verify(key, permission?)`: the same check and the same counter as `/v1`. A trusted Worker
 * calls it, so no client IP applies; a bad permission name is simply not held.
 */
export async function verifyForRpc(
  config: Config,
  logger: Logger,
  waitUntil: (p: Promise<unknown>) => void,
  key: unknown,
  permission: unknown,
): Promise<VerifyResult> {
  const required = permission === undefined || permission === null ? null : String(permission);
  if (required !== null && !(PERMISSIONS as readonly string[]).includes(required)) {
    return {
      valid: false,
      code: "invalid_request",
      keyId: null,
      ownerId: null,
      permissions: [],
      ratelimit: { limit: 0, remaining: 0, reset: 0 },
    };
  }
  const verdict = await verify(
    {
      credential: typeof key === "string" ? key : null,
      from: "raw-key",
      clientIp: null,
      required: required as Permission | null,
    },
    { config, logger, waitUntil },
  );
  const known = verdict.key;
  return {
    valid: verdict.allow,
    code: verdict.allow ? null : verdict.code,
    keyId: known?.id ?? null,
    ownerId: known?.ownerId ?? null,
    permissions: known ? [...known.permissions] : [],
    ratelimit: {
      limit: verdict.rate.limit,
      remaining: Math.max(0, verdict.rate.remaining),
      reset: Math.ceil(verdict.rate.resetMs / 1000),
    },
  };
}

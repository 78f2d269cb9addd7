import { PERMISSIONS, type Permission } from "../domain/permissions";
import type { ErrorCode } from "../http/errors";
import { type RateReport, reportedPolicy } from "../verify/rate-headers";
import { verify } from "../verify/verifier";
import type { RpcContext } from "./contract";

/** `reset` in unix seconds. */
export interface RpcRateLimit {
  limit: number;
  remaining: number;
  reset: number;
}

export type VerifyResult =
  | { ok: true; keyId: string; ownerId: string; permissions: Permission[]; ratelimit: RpcRateLimit }
  | {
      ok: false;
      /** Why not, with the same codes as HTTP. */
      code: ErrorCode;
      detail: string;
      /** Known when the key exists (e.g. `missing_permission`, `rate_limited`, `key_revoked`). */
      keyId: string | null;
      ownerId: string | null;
      permissions: Permission[];
      ratelimit: RpcRateLimit;
    };

/** The policy closer to exhaustion, as `/v1` reports it in `X-RateLimit-*`. */
function rpcRate(report: RateReport): RpcRateLimit {
  const rate = reportedPolicy(report);
  return { limit: rate.limit, remaining: Math.max(0, rate.remaining), reset: Math.ceil(rate.resetMs / 1000) };
}

/** A refusal before any check ran (bad arguments, configuration). */
export function verifyRefusal(code: ErrorCode, detail: string): VerifyResult {
  return {
    ok: false,
    code,
    detail,
    keyId: null,
    ownerId: null,
    permissions: [],
    ratelimit: { limit: 0, remaining: 0, reset: 0 },
  };
}

/**
 * RPC `verify(key, permission?)`: the same check and the same counter as `/v1`. A trusted Worker
 * calls it, so no client IP applies; an unknown permission name is `invalid_request`.
 */
export async function verifyForRpc(
  ctx: RpcContext,
  key: unknown,
  permission: unknown,
): Promise<VerifyResult> {
  const required = permission === undefined || permission === null ? null : String(permission);
  if (required !== null && !(PERMISSIONS as readonly string[]).includes(required)) {
    return verifyRefusal("invalid_request", `Unknown permission; one of ${PERMISSIONS.join(", ")}.`);
  }
  const verdict = await verify(
    {
      credential: typeof key === "string" ? key : null,
      from: "raw-key",
      clientIp: null,
      required: required as Permission | null,
    },
    {
      stores: ctx.stores,
      logger: ctx.logger,
      waitUntil: ctx.waitUntil,
      accountLimitDefault: ctx.config.accountRateLimit,
    },
  );
  const ratelimit = rpcRate(verdict.rate);
  if (verdict.allow) {
    const { id, ownerId, permissions } = verdict.key;
    return { ok: true, keyId: id, ownerId, permissions: [...permissions], ratelimit };
  }
  const known = verdict.key;
  return {
    ok: false,
    code: verdict.code,
    detail: verdict.detail,
    keyId: known?.id ?? null,
    ownerId: known?.ownerId ?? null,
    permissions: known ? [...known.permissions] : [],
    ratelimit,
  };
}

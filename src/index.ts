import { WorkerEntrypoint } from "cloudflare:workers";
import { app } from "./app";
import type { Env } from "./config/env";
import { ApiError, problemResponse } from "./http/errors";
import { announceExpiringKeys } from "./keys/expiring";
import { type IndexRebuildProgress, rebuildIndexBatch } from "./keys/index-rebuild";
import { type RollupProgress, rollUpUsage } from "./keys/usage-rollup";
import { type RecheckProgress, recheckProviderKeys } from "./providers/recheck";
import { type RewrapProgress, rewrapBatch } from "./providers/rewrap";
import { type AccountLimitResult, setAccountLimitOf } from "./rpc/account-limit";
import { type RpcFailure, runRpc } from "./rpc/contract";
import { type ProviderFetchInit, type ProviderRoute, providerFetch, providerRoute } from "./rpc/providers";
import { type RevokeAllResult, revokeAllKeysOf } from "./rpc/revoke-all";
import { type VerifyResult, verifyForRpc, verifyRefusal } from "./rpc/verify";

export type { RpcFailure } from "./rpc/contract";
export type { ProviderFetchInit, ProviderRoute } from "./rpc/providers";
export type { RevokeAllResult } from "./rpc/revoke-all";
export type { RpcRateLimit, VerifyResult } from "./rpc/verify";
export type RewrapResult = ({ ok: true } & RewrapProgress) | RpcFailure;
export type IndexRebuildResult = ({ ok: true } & IndexRebuildProgress) | RpcFailure;
export type UsageRollupResult = ({ ok: true } & RollupProgress) | RpcFailure;
export type RecheckResult = ({ ok: true } & RecheckProgress) | RpcFailure;

/**
 * The Worker. HTTP goes through the Hono app; other VULK Workers call the RPC methods below
 * through a service binding (the binding itself is their authentication). Every method answers a
 * result object — `ok: false` with a `code` on failure — and never throws (docs/DESIGN.md#rpc).
 */
export default class VulkKeys extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(app.fetch(request, this.env, this.ctx));
  }

  /** Checks a public API key (and optionally one permission), counting against the key's limit. */
  async verify(key: string, permission?: string): Promise<VerifyResult> {
    const result = await this.call("verify", (ctx) => verifyForRpc(ctx, key, permission));
    return "ratelimit" in result ? result : verifyRefusal(result.code, result.detail);
  }

  /**
   * Cron Trigger: one bounded batch each of master-key rotation, the key-hash index rebuild, the
   * usage roll-up, the `key.expiring` notices and the provider-key health re-check.
   */
  override async scheduled(): Promise<void> {
    await this.rewrapProviderKeys();
    await this.rebuildKeyIndex();
    await this.rollUpUsage();
    await this.call("announceExpiringKeys", async (ctx) => ({
      ok: true as const,
      ...(await announceExpiringKeys(ctx.stores.db, this.env.EVENTS_QUEUE, ctx.logger)),
    }));
    await this.recheckProviderKeys();
  }

  /** One batch of the provider-key health re-check on demand (the Cron Trigger runs one per run). */
  recheckProviderKeys(): Promise<RecheckResult> {
    return this.call("recheckProviderKeys", async (ctx) => ({
      ok: true as const,
      ...(await recheckProviderKeys(ctx.stores.db, ctx.config, ctx.events, ctx.logger)),
    }));
  }

  /** One run of the usage roll-up on demand (the Cron Trigger runs one per run). */
  rollUpUsage(): Promise<UsageRollupResult> {
    return this.call("rollUpUsage", async (ctx) => ({
      ok: true as const,
      ...(await rollUpUsage(ctx.stores.db, ctx.stores.redis, ctx.logger)),
    }));
  }

  /** One batch of the key-hash index rebuild on demand (the Cron Trigger runs one per run). */
  rebuildKeyIndex(): Promise<IndexRebuildResult> {
    return this.call("rebuildKeyIndex", async (ctx) => ({
      ok: true as const,
      ...(await rebuildIndexBatch(ctx.stores.db, ctx.stores.redis, ctx.logger)),
    }));
  }

  /** One rotation batch on demand; `remaining` shows the progress. */
  rewrapProviderKeys(): Promise<RewrapResult> {
    return this.call("rewrapProviderKeys", async (ctx) => ({
      ok: true as const,
      ...(await rewrapBatch(ctx.stores.db, ctx.config, ctx.logger)),
    }));
  }

  /** Sets the owner's requests per minute across all keys; null = the default (`ACCOUNT_RATE_LIMIT`). */
  setAccountLimit(ownerId: string, limit: number | null): Promise<AccountLimitResult | RpcFailure> {
    return this.call("setAccountLimit", (ctx) => setAccountLimitOf(ctx, ownerId, limit));
  }

  /** Revokes every active key of `ownerId` (account deletion or compromise). */
  revokeAllKeys(ownerId: string, reason?: string): Promise<RevokeAllResult | RpcFailure> {
    return this.call("revokeAllKeys", (ctx) => revokeAllKeysOf(ctx, ownerId, reason));
  }

  /** How this user's generation requests for `provider` are billed: their own key, credits, or blocked. */
  providerRoute(ownerId: string, provider: string): Promise<ProviderRoute | RpcFailure> {
    return this.call("providerRoute", (ctx) => providerRoute(ctx, ownerId, provider));
  }

  /** Calls the user's provider with their key attached here; streams the answer back. Never throws. */
  async providerFetch(
    ownerId: string,
    provider: string,
    path: string,
    init?: ProviderFetchInit,
  ): Promise<Response> {
    const result = await this.call("providerFetch", (ctx) =>
      providerFetch(ctx, ownerId, provider, path, init),
    );
    return result instanceof Response
      ? result
      : problemResponse(new ApiError(result.code, result.detail), crypto.randomUUID());
  }

  private call<T>(method: string, body: Parameters<typeof runRpc<T>>[1]): Promise<T | RpcFailure> {
    return runRpc({ env: this.env, method, waitUntil: (p) => this.ctx.waitUntil(p) }, body);
  }
}

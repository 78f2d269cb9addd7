import { WorkerEntrypoint } from "cloudflare:workers";
import { app } from "./app";
import { type Config, type Env, loadConfigOrLog } from "./config/env";
import { createDb } from "./db/client";
import { ApiError, problemResponse } from "./http/errors";
import { createLogger, type Logger } from "./observability/logger";
import { type RewrapProgress, rewrapBatch } from "./providers/rewrap";
import { type ProviderFetchInit, type ProviderRoute, providerFetch, providerRoute } from "./rpc/providers";
import { type RevokeAllResult, revokeAllKeysOf } from "./rpc/revoke-all";
import { type VerifyResult, verifyForRpc } from "./rpc/verify";

/**
 * The Worker. HTTP goes through the Hono app; other VULK Workers call the RPC methods below
 * through a service binding (the binding itself is their authentication).
 */
export default class VulkKeys extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(app.fetch(request, this.env, this.ctx));
  }

  /** Checks a public API key (and optionally one permission), counting against the key's limit. */
  async verify(key: string, permission?: string): Promise<VerifyResult> {
    const { config, logger } = this.rpc("verify");
    return verifyForRpc(config, logger, (p) => this.ctx.waitUntil(p), key, permission);
  }

  /** Cron Trigger: master-key rotation, one bounded batch per run. */
  override async scheduled(): Promise<void> {
    await this.rewrapProviderKeys();
  }

  /** One rotation batch on demand; `remaining` shows the progress. */
  async rewrapProviderKeys(): Promise<RewrapProgress> {
    const { config, logger } = this.rpc("rewrapProviderKeys");
    return rewrapBatch(createDb(config), config, logger);
  }

  /** Revokes every active key of `ownerId` (account deletion or compromise). */
  async revokeAllKeys(ownerId: string, reason = "revoke_all"): Promise<RevokeAllResult> {
    const { config, logger } = this.rpc("revokeAllKeys");
    if (typeof ownerId !== "string" || ownerId.length === 0) throw new TypeError("ownerId is required");
    return revokeAllKeysOf(config, logger, ownerId, String(reason).slice(0, 200));
  }

  /** How this user's generation requests for `provider` are billed: their own key, credits, or blocked. */
  async providerRoute(ownerId: string, provider: string): Promise<ProviderRoute> {
    const { config } = this.rpc("providerRoute");
    return providerRoute(config, ownerId, provider);
  }

  /** Calls the user's provider with their key attached here; streams the answer back. Never throws. */
  async providerFetch(
    ownerId: string,
    provider: string,
    path: string,
    init?: ProviderFetchInit,
  ): Promise<Response> {
    let context: { config: Config; logger: Logger };
    try {
      context = this.rpc("providerFetch");
    } catch {
      return problemResponse(new ApiError("service_unavailable"), crypto.randomUUID());
    }
    return providerFetch(context.config, context.logger, ownerId, provider, path, init);
  }

  /** Config and a logger for one RPC call. A configuration problem is logged by name, never sent to the caller. */
  private rpc(method: string): { config: Config; logger: Logger } {
    const logger = createLogger({ rpc: method, requestId: crypto.randomUUID() });
    const config = loadConfigOrLog(this.env, logger);
    if (!config) throw new Error("vulk-keys is not available right now");
    return { config, logger };
  }
}

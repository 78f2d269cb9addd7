import { WorkerEntrypoint } from "cloudflare:workers";
import { app } from "./app";
import { type Config, type Env, loadConfig } from "./config/env";
import { createLogger, type Logger } from "./observability/logger";
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

  /** Revokes every active key of `ownerId` (account deletion or compromise). */
  async revokeAllKeys(ownerId: string, reason = "revoke_all"): Promise<RevokeAllResult> {
    const { config, logger } = this.rpc("revokeAllKeys");
    if (typeof ownerId !== "string" || ownerId.length === 0) throw new TypeError("ownerId is required");
    return revokeAllKeysOf(config, logger, ownerId, String(reason).slice(0, 200));
  }

  private rpc(method: string): { config: Config; logger: Logger } {
    const logger = createLogger({ rpc: method, requestId: crypto.randomUUID() });
    return { config: loadConfig(this.env), logger };
  }
}

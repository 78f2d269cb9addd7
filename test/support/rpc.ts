import { env } from "cloudflare:workers";
import type { Env } from "../../src/config/env";
import { type RpcContext, runRpc } from "../../src/rpc/contract";
import { type ProviderFetchInit, providerFetch } from "../../src/rpc/providers";

/**
 * `providerFetch` as the Worker's RPC method runs it (runRpc: checked config, logger, stores), with
 * an `EVENTS_QUEUE` of the test's choosing — the binding under test has none.
 */
export async function providerFetchWith(
  queue: Queue | undefined,
  ownerId: string,
  provider: string,
  path: string,
  init?: ProviderFetchInit,
): Promise<Response> {
  const result = await runRpc(
    { env: { ...env, EVENTS_QUEUE: queue } as Env, method: "providerFetch", waitUntil: () => undefined },
    (ctx: RpcContext) => providerFetch(ctx, ownerId, provider, path, init),
  );
  if (!(result instanceof Response)) throw new Error(`providerFetch answered ${JSON.stringify(result)}`);
  return result;
}

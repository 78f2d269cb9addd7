import { onTestFinished, vi } from "vitest";
import { REGION_SYNC_KEY } from "../../src/keys/keyspace";
import { syncRegion } from "../../src/keys/marker-sync";
import { createLogger } from "../../src/observability/logger";
import { createRedis } from "../../src/redis/client";
import { leasedRun, regionUpstash } from "./stack";
import { redis } from "./stores";

/** A client of the region's database (leased runs only), as the Worker's own. */
export const regionRedis = () => createRedis({ redis: regionUpstash() });

/**
 * Leased runs: the region's copy synced at this instant and the clock (Date) held from now on, so
 * that no sync falls due while a test counts requests. Nothing otherwise.
 */
export async function regionSyncedNow(): Promise<void> {
  if (!leasedRun) return;
  if (!vi.isFakeTimers()) {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now());
    onTestFinished(() => {
      vi.useRealTimers();
    });
  }
  const regional = regionRedis();
  const state = await regional.hgetall<{ stamp?: number; cursor?: string }>(REGION_SYNC_KEY);
  await syncRegion(
    redis(),
    regional,
    { syncedAtMs: Number(state?.stamp ?? 0), cursor: state?.cursor ? String(state.cursor) : null },
    createLogger({ test: "regionSyncedNow" }),
  );
}

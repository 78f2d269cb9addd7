/**
 * Design (b): src/limits/sliding-window.ts with @upstash/ratelimit's MultiRegionRatelimit in place
 * of its single-region limiter — every region has a database of its own; a limit is asked of all of
 * them at once, the first answer (the nearest) decides, and the others are synchronised in the
 * background (`pending`). Everything else of the key check (check script, marker) runs on the
 * region's own database, the one the isolate's request client points at.
 */

import { workerData } from "node:worker_threads";
import { MultiRegionRatelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../../src/config/env";
import { limiterCache, WINDOW_SECONDS } from "../../src/limits/sliding-window";
import { createRedis } from "../../src/redis/client";
import type { IsolateSetup } from "./protocol";

export * from "../../src/limits/sliding-window";

const { otherRedis } = workerData as IsolateSetup;

/** The other regions' clients of one request, made as the request's own (src/redis/client.ts). */
const othersOfRequest = new WeakMap<Redis, Redis[]>();

function othersFor(redis: Redis): Redis[] {
  let others = othersOfRequest.get(redis);
  if (!others) {
    others = otherRedis.map((endpoint) => createRedis({ redis: endpoint } as Config));
    othersOfRequest.set(redis, others);
  }
  return others;
}

export function slidingWindow(redis: Redis, prefix: string, limit: number): MultiRegionRatelimit {
  return new MultiRegionRatelimit({
    redis: [redis, ...othersFor(redis)],
    limiter: MultiRegionRatelimit.slidingWindow(limit, `${WINDOW_SECONDS} s`),
    prefix,
    ephemeralCache: limiterCache,
    timeout: 0,
  });
}

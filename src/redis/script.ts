import type { Redis } from "@upstash/redis/cloudflare";

/**
 * A Lua script with its SHA-1 written out, so that EVALSHA goes out in the same tick as the other
 * commands of a request (a digest computed at run time would be awaited and miss the request);
 * a test pins every SHA to its script.
 */
export interface Script {
  source: string;
  sha1: string;
}

/** EVALSHA, and once per Redis (the script is not loaded yet) EVAL, which loads it for later calls. */
export async function runScript<T>(redis: Redis, script: Script, keys: string[], args: string[]): Promise<T> {
  try {
    return await redis.evalsha<string[], T>(script.sha1, keys, args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
    return await redis.eval<string[], T>(script.source, keys, args);
  }
}

import { env } from "cloudflare:workers";
import { leasedRun } from "./stack";

/**
 * Whether the Worker under test checks keys in the leased topology (docs/DESIGN.md#regions), as
 * its `KEY_CHECK_TOPOLOGY` binding says: the `worker-leased` project of vitest.config.ts sets it,
 * with one region on a second local Upstash server; `worker` leaves the default, single-primary.
 */
export const leased: boolean = env.KEY_CHECK_TOPOLOGY === "leased";

// test/support/stack.ts counts and faults by the project's config; both must describe one Worker.
if (leased !== leasedRun) {
  throw new Error(
    `KEY_CHECK_TOPOLOGY is ${env.KEY_CHECK_TOPOLOGY} but the project provides keyCheckTopology otherwise`,
  );
}

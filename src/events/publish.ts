/**
 * Hands owner events to the optional `EVENTS_QUEUE` binding. The audit row of each event is
 * written by its caller, Queue or not; a refused send is logged and never fails the request.
 */
import type { Logger } from "../observability/logger";
import type { OwnerEvent } from "./owner-events";

export async function publishEvents(
  queue: Queue | undefined,
  events: readonly OwnerEvent[],
  logger: Logger,
): Promise<void> {
  if (!queue || events.length === 0) return;
  try {
    await queue.sendBatch(events.map((body) => ({ body })));
  } catch (error) {
    logger.log("error", "event_send_failed", { types: events.map((e) => e.type), error });
  }
}

import type { OwnerEvent } from "../../src/events/owner-events";

/** A Queue binding that records what is sent (or refuses everything). */
export function recordingQueue(fail = false) {
  const sent: OwnerEvent[] = [];
  const queue = {
    send: async (body: OwnerEvent) => {
      if (fail) throw new Error("queue unavailable");
      sent.push(body);
    },
    sendBatch: async (messages: { body: OwnerEvent }[]) => {
      if (fail) throw new Error("queue unavailable");
      sent.push(...messages.map((m) => m.body));
    },
  } as unknown as Queue;
  return { queue, sent };
}

/**
 * The stores' own thread: the local Neon and Upstash servers answer here, so that the writer and
 * the main thread's bookkeeping never delay them (and they never delay the writer).
 */
import { parentPort, Worker, workerData } from "node:worker_threads";
import type { StoreEndpoint } from "./protocol";
import { startSimStores } from "./stores";

export interface StoresInfo {
  databaseUrl: string;
  neonUrl: string;
  neonSqlEndpoint: string;
  /** One per region, index = region; region 0 is the primary. */
  upstash: StoreEndpoint[];
}

export interface StoresHandle extends StoresInfo {
  /** Upstash requests the servers counted so far, all databases together. */
  upstashRequests(): Promise<number>;
  stop(): Promise<void>;
}

type FromStores =
  | { type: "started"; info: StoresInfo }
  | { type: "failed"; error: string }
  | { type: "stopped" };

/** Starts the stores in a thread of their own (main thread side). */
export function openStores(regions: number): Promise<StoresHandle> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { regions } });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (message: FromStores) => {
      if (message.type === "failed") reject(new Error(message.error));
      if (message.type !== "started") return;
      const { info } = message;
      resolve({
        ...info,
        upstashRequests: async () => {
          let sum = 0;
          for (const { url } of info.upstash) {
            const counts = (await (await fetch(`${url}/__local/counts`)).json()) as Record<string, number>;
            sum +=
              (counts["/"] ?? 0) +
              (counts["/pipeline"] ?? 0) +
              (counts["/multi-exec"] ?? 0) +
              (counts.path ?? 0);
          }
          return sum;
        },
        stop: () =>
          new Promise<void>((done) => {
            worker.on("message", (m: FromStores) => {
              if (m.type === "stopped") void worker.terminate().then(() => done());
            });
            worker.postMessage("stop");
          }),
      });
    });
  });
}

if (parentPort && (workerData as { regions?: number } | null)?.regions !== undefined) {
  const port = parentPort;
  const { regions } = workerData as { regions: number };
  startSimStores(regions).then(
    (stores) => {
      port.postMessage({
        type: "started",
        info: {
          databaseUrl: stores.databaseUrl,
          neonUrl: stores.neon.url,
          neonSqlEndpoint: stores.neon.sqlEndpoint,
          upstash: stores.upstash.map((server) => ({ url: server.url, token: server.token })),
        },
      } satisfies FromStores);
      port.once("message", () => {
        void stores.stop().then(() => port.postMessage({ type: "stopped" } satisfies FromStores));
      });
    },
    (error: unknown) => port.postMessage({ type: "failed", error: String(error) } satisfies FromStores),
  );
}

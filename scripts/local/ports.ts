import net from "node:net";

/** A TCP port on 127.0.0.1 that is free right now: `preferred` when it is, else one the OS picks. */
export async function freePort(preferred = 0): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(undefined));
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : undefined));
      });
    });
  return (
    (preferred && (await tryListen(preferred))) ||
    (await tryListen(0)) ||
    Promise.reject(new Error("no free port"))
  );
}

/**
 * A TCP relay in front of a real server whose every chunk can be delayed (`link.delayMs`): a slow
 * network for fault-injection tests and the storage benchmark. Binds 127.0.0.1 on a free port.
 */
import { connect, createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";

export interface SlowLink {
  /** http://127.0.0.1:<port> forwarding to the target. */
  url: string;
  /** Delay per chunk in each direction, ms; 0 = pass through. */
  delayMs: number;
  close(): Promise<void>;
}

export async function slowLink(target: string): Promise<SlowLink> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const link: SlowLink = { url: "", delayMs: 0, close: async () => {} };
  const delayed = (from: Socket, to: Socket) =>
    from.on("data", (chunk) => {
      if (link.delayMs === 0) return to.write(chunk);
      from.pause();
      setTimeout(() => {
        to.write(chunk);
        from.resume();
      }, link.delayMs);
    });
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    delayed(client, upstream);
    delayed(upstream, client);
    const drop = () => (client.destroy(), upstream.destroy(), sockets.delete(client), sockets.delete(upstream));
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  link.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  link.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return link;
}

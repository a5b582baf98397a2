/**
 * A second IPFS node in its own Node 22 process, for test/storage/ipfs.test.ts: an IpfsStore with
 * its own repo that dials the test's node (argv[3], a multiaddr with /p2p/) and answers JSON
 * commands on stdin, one per line, with one JSON line on stdout each:
 *   {"id":1,"op":"get","pieceCid":"...","location":"ipfs://<root>","range":{"start":0,"end":9}}
 *     -> {"id":1,"ok":true,"size":N,"base64":"..."}  (bytes verified against the PieceCID)
 *   {"id":2,"op":"put","base64":"..."} -> {"id":2,"ok":true,"pieceCid":"...","location":"ipfs://..."}
 *   {"id":3,"op":"addrs"} -> {"id":2,"ok":true,"addrs":[...]}
 * Errors come back as {"id":..,"ok":false,"name":"...","message":"..."}.
 */
import { createInterface } from "node:readline";
import { IpfsStore } from "@streamvault/lib/storage/ipfs/index.ts";

// Mocha loads every file under test/ (this one too): serve only when run as a process.
if (import.meta.main) void serve();

async function serve(): Promise<void> {
  const [repoDir, peer, timeout] = process.argv.slice(2);
  const store = new IpfsStore({ repoDir, peers: [peer], fetchTimeoutMs: Number(timeout ?? 10_000) });
  await store.start();
  const send = (msg: unknown) => process.stdout.write(JSON.stringify(msg) + "\n");
  send({ ready: true, addrs: await store.multiaddrs() });

  const lines = createInterface({ input: process.stdin });
  lines.on("line", async (line) => {
    const cmd = JSON.parse(line) as { id: number; op: string; pieceCid?: string; location?: string; range?: { start: number; end?: number } };
    try {
      if (cmd.op === "addrs") return send({ id: cmd.id, ok: true, addrs: await store.multiaddrs() });
      if (cmd.op === "put") {
        const res = await store.put(new Uint8Array(Buffer.from((cmd as { base64?: string }).base64 ?? "", "base64")));
        return send({ id: cmd.id, ok: true, ...res });
      }
      if (cmd.op === "get") {
        await store.recordRoot(cmd.pieceCid!, cmd.location!);
        const bytes = await store.get(cmd.pieceCid!, cmd.range);
        return send({ id: cmd.id, ok: true, size: bytes.length, base64: Buffer.from(bytes).toString("base64") });
      }
      send({ id: cmd.id, ok: false, name: "Error", message: `unknown op ${cmd.op}` });
    } catch (err) {
      send({ id: cmd.id, ok: false, name: (err as Error).name, message: (err as Error).message });
    }
  });
  lines.on("close", async () => {
    await store.close();
    process.exit(0);
  });
}

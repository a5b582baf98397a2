/**
 * The in-process IPFS node behind IpfsStore: Helia with a persistent repo (blockstore-fs +
 * datastore-fs, so the peer id and the blocks survive restarts) and libp2p with TCP, noise, yamux,
 * identify and bitswap only. No bootstrap, mDNS, DHT, UPnP, HTTP gateways or delegated routers:
 * the node talks to the peers it is told about and nothing else.
 *
 * Helia needs Node >= 22 (it crashes at import on Node 20), so nothing imports this module
 * statically: IpfsStore loads it with `await import()` on first use.
 */
import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { createHeliaLight } from "helia";
import { withLibp2pLight } from "@helia/libp2p";
import { withBitswap } from "@helia/bitswap";
import { unixfs } from "@helia/unixfs";
import type { UnixFS } from "@helia/unixfs";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { multiaddr } from "@multiformats/multiaddr";
import { FsBlockstore } from "blockstore-fs";
import { FsDatastore } from "datastore-fs";
import { CID as ProjectCID } from "multiformats/cid";

// Helia's packages each nest their own multiformats 14 (the project has 13). Most of Helia takes
// any CID object, but the UnixFS exporter insists on its own copy's class, so cat() gets the CID
// as a string and parses it itself.
type HeliaCid = Parameters<UnixFS["cat"]>[0];
const CID = { parse: (cid: string) => ProjectCID.parse(cid) as unknown as HeliaCid };

export interface IpfsNodeOptions {
  /** Repo directory: `blocks/` and `datastore/` live under it. */
  repoDir: string;
  /** libp2p listen multiaddrs, e.g. ["/ip4/127.0.0.1/tcp/0"]. */
  listen: string[];
}

export interface IpfsNode {
  readonly fs: UnixFS;
  /** Bytes of the UnixFS file at `cid` (local blocks first, else bitswap). */
  cat(cid: string, options: { offset?: number; length?: number; signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /** Our listen multiaddrs with the /p2p/<peer id> suffix: what other nodes dial. */
  multiaddrs(): string[];
  peerId(): string;
  /** Dial a peer by multiaddr (must end in /p2p/<peer id>). */
  dial(address: string, signal?: AbortSignal): Promise<void>;
  /** Peer ids we hold a connection to. */
  connectedPeers(): string[];
  /** Whether the block is in the local blockstore (no network). */
  hasLocalBlock(cid: string): Promise<boolean>;
  /** Keep every block of the DAG under `cid` from garbage collection (fetching missing ones). */
  pin(cid: string, signal?: AbortSignal): Promise<void>;
  isPinned(cid: string): Promise<boolean>;
  /** Drop the pin of `cid` (its blocks become garbage for the next GC); no-op when not pinned. */
  unpin(cid: string): Promise<void>;
  /** The Helia instance, for @helia/verified-fetch. */
  readonly helia: unknown;
  stop(): Promise<void>;
}

/** Start a loopback-only Helia node with a persistent repo. */
export async function startIpfsNode(options: IpfsNodeOptions): Promise<IpfsNode> {
  const blocksDir = join(options.repoDir, "blocks");
  const datastoreDir = join(options.repoDir, "datastore");
  await mkdir(blocksDir, { recursive: true });
  await mkdir(datastoreDir, { recursive: true });
  const blockstore = new FsBlockstore(blocksDir);
  const datastore = new FsDatastore(datastoreDir);
  await blockstore.open();
  await datastore.open();

  const listen = options.listen.map((a) => {
    try {
      return multiaddr(a).toString();
    } catch (err) {
      throw new Error(`IPFS_LISTEN: ${JSON.stringify(a)} is not a multiaddr (e.g. /ip4/127.0.0.1/tcp/0): ${(err as Error).message}`);
    }
  });

  // withLibp2pLight (not withLibp2p): the defaults would add bootstrap, mDNS, DHT, UPnP, relay.
  // Its libp2p router is added automatically, so the node never has a gateway router alone
  // (that combination hangs; see TOOLCHAIN.md).
  const helia = withBitswap(
    withLibp2pLight(createHeliaLight({ blockstore, datastore }), {
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
      peerDiscovery: [],
    }),
  );
  await helia.start();
  const fs = unixfs(helia);

  return {
    fs,
    helia,
    cat: (cid, opts) => fs.cat(cid as unknown as HeliaCid, opts),
    multiaddrs: () => helia.libp2p.getMultiaddrs().map((m) => m.toString()),
    peerId: () => helia.libp2p.peerId.toString(),
    async dial(address, signal) {
      await helia.libp2p.dial(multiaddr(address), { signal });
    },
    connectedPeers: () => helia.libp2p.getConnections().map((c) => c.remotePeer.toString()),
    hasLocalBlock: async (cid) => helia.blockstore.has(CID.parse(cid), { offline: true } as never),
    async pin(cid, signal) {
      const parsed = CID.parse(cid);
      if (await helia.pins.isPinned(parsed, { signal })) return;
      for await (const _ of helia.pins.add(parsed, { signal })) {
        // pins.add yields each pinned block's CID; draining it fetches and pins the whole DAG.
      }
    },
    isPinned: (cid) => helia.pins.isPinned(CID.parse(cid)),
    async unpin(cid) {
      const parsed = CID.parse(cid);
      if (!(await helia.pins.isPinned(parsed))) return;
      for await (const _ of helia.pins.rm(parsed)) {
        // pins.rm yields each unpinned block's CID; draining it completes the removal.
      }
    },
    async stop() {
      await helia.stop();
      await blockstore.close();
      await datastore.close();
    },
  };
}

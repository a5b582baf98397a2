/**
 * IpfsStore: pieces kept as chunked UnixFS in an in-process Helia node.
 *
 * - put: the bytes are imported as UnixFS with the IPIP-499 `unixfs-v1-2025` profile (CIDv1,
 *   1 MiB raw leaves), so every block stays under bitswap's 2 MiB limit and large segments remain
 *   fetchable; the root is pinned locally, recorded beside the PieceCID in a persistent index, and
 *   returned as `location: ipfs://<root>`. With a pinning service configured the root is also
 *   pinned remotely (our multiaddrs as `origins`, so the service fetches from us).
 * - get: the root is read through the node (local blockstore, else bitswap from connected
 *   peers), and the whole piece is checked against the PieceCID the first time; later reads of
 *   the same (PieceCID, root) pair read just the UnixFS range. Nothing unverified is returned.
 *
 * Helia is loaded lazily with `await import()`: it needs Node 22, and this module stays
 * importable (and the factory callable) on Node 20.
 */
import { join } from "node:path";
import { assertPieceSize, normalizePieceCid, pieceCidOf, pieceSize, resolveRange, verifyPiece } from "../piece.ts";
import { PieceIntegrityError, PieceNotFoundError } from "../types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "../types.ts";
import { PinningServiceClient } from "./pinning.ts";
import type { PinStatus } from "./pinning.ts";
import { RootIndex } from "./root-index.ts";
import type { RootRecord } from "./root-index.ts";
import type { IpfsNode } from "./node.ts";
import { StreamVaultError } from "../../errors.ts";

export interface IpfsStoreOptions {
  /** Repo directory (blocks, datastore with the peer key, piece index). Created if missing. */
  repoDir: string;
  /** libp2p listen multiaddrs. Default ["/ip4/127.0.0.1/tcp/0"] (loopback, any free port). */
  listen?: string[];
  /** Peers to dial at start and before network fetches: multiaddrs ending in /p2p/<peer id>. */
  peers?: string[];
  /** Base URL of a path gateway serving our node (`<url>/ipfs/<root>`), used by urlFor(). */
  gatewayUrl?: string;
  /** Remote pinning (IPFS Pinning Service API): every new root is pinned there after put. */
  pinning?: { endpoint: string; token: string };
  /** How long a read may wait for blocks from peers before failing. Default 30 s. */
  fetchTimeoutMs?: number;
}

/** A read that could not get the blocks: not local, and no connected peer sent them in time. */
export class IpfsUnavailableError extends StreamVaultError {
  readonly pieceCid: string;
  readonly root: string;
  constructor(pieceCid: string, root: string, message: string) {
    super("unavailable", message);
    this.name = "IpfsUnavailableError";
    this.pieceCid = pieceCid;
    this.root = root;
  }
}

const CHUNK = 1024 * 1024;

export class IpfsStore implements PieceStore {
  readonly name = "ipfs";
  readonly verifiesReads = true;
  readonly repoDir: string;
  readonly index: RootIndex;
  readonly pinning: PinningServiceClient | undefined;
  readonly #listen: string[];
  readonly #peers: string[];
  readonly #gatewayUrl: string | undefined;
  readonly #fetchTimeoutMs: number;
  #node: Promise<IpfsNode> | undefined;
  #closed = false;
  /** PieceCID -> root CID whose whole content was verified in this process. */
  readonly #verified = new Map<string, string>();
  /** PieceCIDs whose indexed root failed verification: the next put() re-imports instead of trusting it. */
  readonly #corrupt = new Set<string>();
  #gatewayFetch: Promise<(resource: string, init?: RequestInit & Record<string, unknown>) => Promise<Response>> | undefined;

  constructor(options: IpfsStoreOptions) {
    if (!options.repoDir) throw new Error("IpfsStore: repoDir is required (IPFS_REPO_DIR)");
    this.repoDir = options.repoDir;
    this.index = new RootIndex(join(options.repoDir, "piece-index"));
    this.#listen = options.listen?.length ? options.listen : ["/ip4/127.0.0.1/tcp/0"];
    this.#peers = options.peers ?? [];
    this.#gatewayUrl = options.gatewayUrl?.replace(/\/+$/, "");
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? 30_000;
    this.pinning = options.pinning ? new PinningServiceClient(options.pinning) : undefined;
  }

  /** Start the node (once; later calls share it). put/get/has call it for you. */
  start(): Promise<IpfsNode> {
    if (this.#closed) return Promise.reject(new Error("IpfsStore is closed"));
    this.#node ??= (async () => {
      const major = Number(process.versions.node.split(".")[0]);
      if (major < 22) {
        throw new Error(
          `the ipfs storage backend needs Node >= 22 (Helia), this is ${process.version}: run through bin/streamvault or npm scripts, which use node_modules/.bin/node`,
        );
      }
      const { startIpfsNode } = await import("./node.ts");
      const node = await startIpfsNode({ repoDir: this.repoDir, listen: this.#listen });
      await this.#dialPeers(node);
      return node;
    })().catch((err: unknown) => {
      this.#node = undefined; // a failed start (port taken, bad address) may be retried
      throw err;
    });
    return this.#node;
  }

  /** Our multiaddrs (with /p2p/<peer id>), for IPFS_PEERS of other nodes and pin origins. */
  async multiaddrs(): Promise<string[]> {
    return (await this.start()).multiaddrs();
  }

  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    assertPieceSize(bytes.length);
    options.signal?.throwIfAborted();
    const pieceCid = pieceCidOf(bytes, options.pieceCid);
    const size = bytes.length;
    const node = await this.start();
    const known = await this.index.get(pieceCid);
    // A root whose bytes did not match the PieceCID (get() saw it) is replaced, not trusted: repair.
    if (known && !this.#corrupt.has(pieceCid) && (await node.hasLocalBlock(known.root)) && (await node.isPinned(known.root))) {
      if (this.pinning && known.pinEndpoint !== this.pinning.endpoint) await this.#pinRemotely(pieceCid, known);
      options.onProgress?.(size, size);
      return { pieceCid, size, existed: true, location: `ipfs://${known.root}` };
    }
    const onProgress = options.onProgress;
    async function* slices(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < size; off += CHUNK) {
        options.signal?.throwIfAborted();
        const end = Math.min(off + CHUNK, size);
        yield bytes.subarray(off, end);
        onProgress?.(end, size); // the importer asked for the next slice: this one is stored
      }
    }
    const rootCid = await node.fs.addByteStream(slices(), { profile: "unixfs-v1-2025", signal: options.signal });
    const root = rootCid.toString();
    // Pin before recording: an index entry always points at blocks that GC will not drop.
    await node.pin(root, options.signal);
    const record: RootRecord = { root };
    await this.index.set(pieceCid, record);
    this.#corrupt.delete(pieceCid);
    this.#verified.set(pieceCid, root); // we just hashed these exact bytes
    if (this.pinning) await this.#pinRemotely(pieceCid, record);
    onProgress?.(size, size);
    return { pieceCid, size, existed: false, location: `ipfs://${root}` };
  }

  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    const cid = normalizePieceCid(pieceCid);
    const size = pieceSize(cid);
    const { start, end } = range ? resolveRange(range, size) : { start: 0, end: size - 1 };
    const record = await this.index.get(cid);
    if (!record) throw new PieceNotFoundError(cid, this.name);
    const node = await this.start();
    if (this.#verified.get(cid) === record.root) {
      const part = await this.#cat(node, cid, record.root, start, end - start + 1);
      if (part.length !== end - start + 1) throw new PieceIntegrityError(cid, this.name, `${part.length} bytes at ${start}`);
      return part;
    }
    const whole = await this.#cat(node, cid, record.root, 0, size);
    try {
      verifyPiece(whole, cid, this.name);
    } catch (err) {
      if (err instanceof PieceIntegrityError) this.#corrupt.add(cid);
      throw err;
    }
    this.#verified.set(cid, record.root);
    return start === 0 && end === size - 1 ? whole : whole.subarray(start, end + 1);
  }

  /** Indexed and the root block is in the local blockstore (no network look-up). */
  async has(pieceCid: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    const record = await this.index.get(cid);
    if (!record) return false;
    return (await this.start()).hasLocalBlock(record.root);
  }

  /**
   * Drop this node's copy (placement moves): the index record goes first, so has() is false at
   * once, then the pin (the blocks are left to Helia's GC). A remote pin at a pinning service is
   * left as it is: the service bills and removes it on its own terms.
   */
  async delete(pieceCid: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    const record = await this.index.get(cid);
    if (!record) return false;
    const node = await this.start();
    await this.index.remove(cid);
    this.#verified.delete(cid);
    await node.unpin(record.root);
    return true;
  }

  /** `<IPFS_GATEWAY_URL>/ipfs/<root>` for an indexed piece, when a gateway URL is configured. */
  urlFor(pieceCid: string): string | undefined {
    if (!this.#gatewayUrl) return undefined;
    const record = this.index.getSync(normalizePieceCid(pieceCid));
    return record ? `${this.#gatewayUrl}/ipfs/${record.root}` : undefined;
  }

  /** `ipfs://<root>` of an indexed piece (what put reported), for manifests' mirrors. */
  async locationOf(pieceCid: string): Promise<string | undefined> {
    const record = await this.index.get(normalizePieceCid(pieceCid));
    return record ? `ipfs://${record.root}` : undefined;
  }

  /**
   * Record where a piece lives on IPFS without holding it (a mirror read from a manifest): the
   * next get() fetches the root from peers and verifies it against the PieceCID.
   */
  async recordRoot(pieceCid: string, location: string): Promise<void> {
    const cid = normalizePieceCid(pieceCid);
    const root = location.replace(/^ipfs:\/\//, "").replace(/^\/ipfs\//, "");
    const { CID } = await import("multiformats/cid");
    try {
      CID.parse(root);
    } catch {
      throw new Error(`not an IPFS CID or ipfs:// location: ${JSON.stringify(location)}`);
    }
    if (this.#verified.get(cid) !== root) this.#verified.delete(cid);
    await this.index.set(cid, { root });
  }

  /** Current status of a piece's remote pin (GET /pins/:requestid). */
  async remotePinStatus(pieceCid: string): Promise<PinStatus | undefined> {
    if (!this.pinning) return undefined;
    const record = await this.index.get(normalizePieceCid(pieceCid));
    if (!record?.pinRequestId) return undefined;
    return this.pinning.get(record.pinRequestId);
  }

  /** Wait until the pinning service reports the piece's root `pinned`. */
  async waitForRemotePin(pieceCid: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<PinStatus> {
    if (!this.pinning) throw new Error("no pinning service configured (IPFS_PINNING_ENDPOINT)");
    const record = await this.index.get(normalizePieceCid(pieceCid));
    if (!record?.pinRequestId) throw new Error(`piece ${pieceCid} has no remote pin request`);
    return this.pinning.waitForPinned(record.pinRequestId, options);
  }

  /**
   * A Fetch-API fetch over our node (@helia/verified-fetch), for the path gateway route:
   * `ipfs://<cid>/<path>` with Range support, every block verified against its CID.
   */
  gatewayFetch(): Promise<(resource: string, init?: RequestInit & Record<string, unknown>) => Promise<Response>> {
    this.#gatewayFetch ??= (async () => {
      const node = await this.start();
      const { createVerifiedFetchWithHelia } = await import("@helia/verified-fetch");
      const verifiedFetch = await createVerifiedFetchWithHelia(node.helia as never);
      return (resource: string, init?: RequestInit & Record<string, unknown>) =>
        verifiedFetch(resource, { allowInsecure: true, allowLocal: true, ...init });
    })();
    return this.#gatewayFetch;
  }

  /** Read-timeout of network fetches, for callers that bound their own requests the same way. */
  get fetchTimeoutMs(): number {
    return this.#fetchTimeoutMs;
  }

  /** Stop the node (closes every connection and the repo). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const node = this.#node;
    this.#node = undefined;
    if (!node) return;
    const started = await node.catch(() => undefined);
    await started?.stop();
  }

  /** POST /pins with our multiaddrs as origins, then dial the service's delegates (per spec). */
  async #pinRemotely(pieceCid: string, record: RootRecord): Promise<void> {
    const pinning = this.pinning!;
    const node = await this.start();
    const status = await pinning.add({
      cid: record.root,
      name: pieceCid,
      origins: node.multiaddrs(),
      meta: { pieceCid, app: "streamvault" },
    });
    await Promise.all(
      (status.delegates ?? []).map((d) => node.dial(d, AbortSignal.timeout(5_000)).catch(() => undefined)),
    );
    await this.index.set(pieceCid, { ...record, pinRequestId: status.requestid, pinEndpoint: pinning.endpoint });
  }

  async #dialPeers(node: IpfsNode): Promise<string[]> {
    const connected = new Set(node.connectedPeers());
    const failures: string[] = [];
    await Promise.all(
      this.#peers
        .filter((addr) => !connected.has(addr.split("/p2p/").pop() ?? ""))
        .map(async (addr) => {
          try {
            await node.dial(addr, AbortSignal.timeout(Math.min(5_000, this.#fetchTimeoutMs)));
          } catch (err) {
            failures.push(`${addr}: ${(err as Error).message}`);
          }
        }),
    );
    return failures;
  }

  /** `length` bytes of the UnixFS file at `root` from `offset`, bounded by the fetch timeout. */
  async #cat(node: IpfsNode, pieceCid: string, root: string, offset: number, length: number): Promise<Uint8Array> {
    let dialFailures: string[] = [];
    if (!(await node.hasLocalBlock(root))) dialFailures = await this.#dialPeers(node);
    const signal = AbortSignal.timeout(this.#fetchTimeoutMs);
    const out = new Uint8Array(length);
    let got = 0;
    try {
      for await (const chunk of node.cat(root, { offset, length, signal })) {
        if (got + chunk.length > length) {
          // More bytes than the PieceCID's size: this root is not that piece.
          throw new PieceIntegrityError(pieceCid, this.name, `root ${root} holds more than ${offset + length} bytes`);
        }
        out.set(chunk, got);
        got += chunk.length;
      }
    } catch (err) {
      if (err instanceof PieceIntegrityError) throw err;
      if (signal.aborted) {
        const peers = node.connectedPeers();
        throw new IpfsUnavailableError(
          pieceCid,
          root,
          `IPFS: piece ${pieceCid} (root ${root}) not retrieved within ${this.#fetchTimeoutMs} ms: not in the local blockstore and ` +
            (peers.length ? `none of the ${peers.length} connected peer(s) sent it` : "no peer is connected") +
            (dialFailures.length ? `; could not dial ${dialFailures.join("; ")}` : "") +
            " (check IPFS_PEERS and that those nodes are up)",
        );
      }
      throw err;
    }
    return got === length ? out : out.subarray(0, got);
  }
}

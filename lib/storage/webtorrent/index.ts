/// <reference path="./modules.d.ts" />
/**
 * WebTorrent backend: pieces on disk under WEBTORRENT_DIR, seeded as ONE BitTorrent per published
 * item (one file per piece, named by its PieceCID), with the HTTP piece route as BEP 19 web seed,
 * so a fan with no peers still gets the bytes. Reads come from the local copy, else from peers or
 * the web seed through the torrent, and are checked against the PieceCID before they are returned.
 *
 * URL mapping. A multi-file torrent named `piece` holds files `piece/<PieceCID>`; BEP 19 clients
 * fetch `<url-list>/<torrent name>/<file>`, so with url-list = WEBTORRENT_WEB_SEED_URL (the base
 * under which `/piece/<cid>` is served: the gateway's root, or the web app's `/api`) a web-seed
 * request is exactly a piece-route request (`/piece/<cid>`, `/api/piece/<cid>`), no extra route.
 * A one-piece item is a single-file torrent whose web seed is the piece URL itself (BEP 19 rule).
 * On disk the seeder keeps `<dir>/piece/<cid>`, which is the torrent's own layout: seeding copies
 * nothing. The .torrent file is stored as a piece too, so the same route serves it; magnets carry
 * it as `xs=` (exact source), which lets a peerless client get the metadata over HTTP.
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile, readdir } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import type WebTorrent from "webtorrent";
import type { Torrent, TorrentFile } from "webtorrent";
import { assertPieceSize, isPieceCid, normalizePieceCid, pieceCidOf, pieceSize, resolveRange, sliceRange, verifyPiece } from "../piece.ts";
import { MIN_PIECE_BYTES, PieceIntegrityError, PieceNotFoundError } from "../types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "../types.ts";

// Loaded on first use: importing webtorrent takes ~1.3 s, and most processes that load the
// storage library (CLI, web routes, local-only stores) never start a torrent client.
let torrentLibs: Promise<{
  WebTorrent: typeof import("webtorrent").default;
  createTorrent: typeof import("create-torrent").default;
  parseTorrent: typeof import("parse-torrent").default;
}> | undefined;
function loadTorrentLibs() {
  torrentLibs ??= Promise.all([import("webtorrent"), import("create-torrent"), import("parse-torrent")]).then(([wt, ct, pt]) => ({
    WebTorrent: wt.default,
    createTorrent: ct.default,
    parseTorrent: pt.default,
  }));
  return torrentLibs;
}

/** Name of every item torrent (and of the piece directory): the last segment of the piece route. */
export const TORRENT_NAME = "piece";

export interface WebTorrentStoreOptions {
  /** Directory for pieces, fetched torrents and the torrent index (created if missing). */
  dir: string;
  /** Tracker announce URLs (http://, udp://, ws://); empty = web seed only. */
  trackers?: string[];
  /**
   * Base URL under which `/piece/<cid>` serves pieces: "http://127.0.0.1:8787" (gateway) or
   * "https://app.example/api" (web app). Becomes the torrents' web seed; unset = no web seed.
   */
  webSeedUrl?: string;
  /** TCP port for incoming peers; 0 (default) picks a free one. */
  peerPort?: number;
  /** Give up on a remote fetch after this long (ms); default 60 000. */
  fetchTimeoutMs?: number;
  /** Torrent piece hash failures inside one PieceCID file before the read fails; default 3. */
  maxHashFailures?: number;
}

/** What seedItem returns: the item's torrent and how to reach it. */
export interface SeededItem {
  itemId: string;
  infoHash: string;
  /** magnet:?xt=urn:btih:…&dn=&tr=&ws=&xs= (the PutResult.location of the item's pieces). */
  magnet: string;
  /** PieceCID of the .torrent file (stored as a piece, served by the piece route). */
  torrentPieceCid: string;
  pieceCids: string[];
}

/** Counters for `streamvault storage status`. */
export interface WebTorrentStats {
  /** Torrents this client seeds for published items. */
  seeding: number;
  /** Remote torrents added to fetch from. */
  fetching: number;
  /** Connected BitTorrent peers (web seeds not counted). */
  peers: number;
  /** Connected web seeds. */
  webSeeds: number;
  uploadedBytes: number;
  downloadedBytes: number;
  /** Pieces fetched through a torrent and verified against their PieceCID. */
  fetchedPieces: number;
  /** Torrent piece SHA-1 failures (bad bytes from a peer or a web seed, discarded by the client). */
  hashFailures: number;
  /** Fetched pieces that failed the PieceCID check (never returned). */
  integrityFailures: number;
  /** Pieces held on disk and their bytes. */
  localPieces: number;
  localBytes: number;
}

interface IndexFile {
  version: 1;
  /** Items this node seeds, by item id. */
  items: Record<string, SeededItem>;
  /** Remote torrents to fetch from, by info hash: the magnet (or location) they were added with. */
  remote: Record<string, string>;
}

interface Located {
  torrent: Torrent;
  file: TorrentFile;
}

/** PieceStore over WebTorrent; see the module comment for layout and URL mapping. */
export class WebTorrentStore implements PieceStore {
  readonly name = "webtorrent";
  readonly verifiesReads = true;
  readonly dir: string;
  readonly trackers: string[];
  readonly webSeedUrl: string | undefined;
  readonly #pieceDir: string;
  readonly #fetchDir: string;
  readonly #indexPath: string;
  readonly #options: WebTorrentStoreOptions;
  #client: WebTorrent | undefined;
  #starting: Promise<WebTorrent> | undefined;
  #index: IndexFile | undefined;
  #closed = false;
  /** cid -> torrents listing it (seeded and remote), filled as metadata arrives. */
  readonly #where = new Map<string, Set<string>>();
  /** info hash -> torrent, for every torrent this client holds. */
  readonly #torrents = new Map<string, Torrent>();
  /** Remote torrents whose metadata is still on its way. */
  readonly #pendingMetadata = new Set<Promise<void>>();
  /** Local files already hashed: cid -> "ino:size:mtime", so ranged reads do not re-hash. */
  readonly #verified = new Map<string, string>();
  readonly #inflight = new Map<string, Promise<Uint8Array>>();
  readonly #hashFailures = new Map<string, number[]>();
  readonly #counters = { fetchedPieces: 0, hashFailures: 0, integrityFailures: 0, removedUploaded: 0, removedDownloaded: 0 };

  constructor(options: WebTorrentStoreOptions) {
    this.#options = options;
    this.dir = options.dir;
    this.trackers = options.trackers ?? [];
    this.webSeedUrl = options.webSeedUrl?.replace(/\/+$/, "");
    this.#pieceDir = join(this.dir, TORRENT_NAME);
    this.#fetchDir = join(this.dir, ".fetch");
    this.#indexPath = join(this.dir, "torrents.json");
  }

  /** Path of a stored piece (the CID is validated first, so it is path-safe). */
  pathFor(pieceCid: string): string {
    return join(this.#pieceDir, normalizePieceCid(pieceCid));
  }

  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    assertPieceSize(bytes.length);
    options.signal?.throwIfAborted();
    const pieceCid = pieceCidOf(bytes, options.pieceCid);
    const size = bytes.length;
    const location = (await this.#loadIndex()) && this.#seededLocation(pieceCid);
    const withLocation = (r: PutResult): PutResult => (location ? { ...r, location } : r);
    if (await fileExists(this.pathFor(pieceCid))) {
      options.onProgress?.(size, size);
      return withLocation({ pieceCid, size, existed: true });
    }
    await this.#writePiece(pieceCid, bytes, options);
    return withLocation({ pieceCid, size, existed: false });
  }

  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    const cid = normalizePieceCid(pieceCid);
    const size = pieceSize(cid);
    if (range) resolveRange(range, size); // a bad range fails before any network work
    const local = await this.#readLocal(cid, range);
    if (local) return local;
    let pending = this.#inflight.get(cid);
    if (!pending) {
      pending = this.#fetch(cid).finally(() => this.#inflight.delete(cid));
      this.#inflight.set(cid, pending);
    }
    return sliceRange(await pending, range);
  }

  /** True when the piece is on disk or listed by a torrent this store knows (peers or web seed). */
  async has(pieceCid: string): Promise<boolean> {
    const cid = normalizePieceCid(pieceCid);
    if (await fileExists(this.pathFor(cid))) return true;
    await this.#loadIndex();
    if (this.#where.has(cid)) return true;
    if (this.#pendingMetadata.size > 0 || Object.keys(this.#index!.remote).length > 0) await this.#start();
    await Promise.all(this.#pendingMetadata);
    return this.#where.has(cid);
  }

  /** The piece route URL (the web seed) when WEBTORRENT_WEB_SEED_URL is set. */
  urlFor(pieceCid: string): string | undefined {
    return this.webSeedUrl ? `${this.webSeedUrl}/${TORRENT_NAME}/${normalizePieceCid(pieceCid)}` : undefined;
  }

  /**
   * Create (or replace) the torrent of an item from its pieces, all already put here, and seed
   * it. Idempotent: the same pieces give the same info hash. Returns the magnet (the location).
   */
  async seedItem(itemId: string, pieceCids: string[]): Promise<SeededItem> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(itemId)) {
      throw new Error(`seedItem: item id ${JSON.stringify(itemId)} must be 1-128 chars of A-Z a-z 0-9 . _ : -`);
    }
    const cids = [...new Set(pieceCids.map(normalizePieceCid))];
    if (cids.length === 0) throw new Error(`seedItem ${itemId}: no pieces (pass the PieceCIDs listed in its manifest)`);
    const missing: string[] = [];
    for (const cid of cids) if (!(await fileExists(this.pathFor(cid)))) missing.push(cid);
    if (missing.length > 0) {
      throw new Error(`seedItem ${itemId}: ${missing.length} piece(s) not stored here, put() them first: ${missing.slice(0, 3).join(", ")}`);
    }
    const index = await this.#loadIndex();
    const previous = index.items[itemId];
    const client = await this.#start();

    const single = cids.length === 1;
    const torrentBytes = await makeTorrent(
      cids.map((cid) => this.pathFor(cid)),
      {
        name: single ? cids[0] : TORRENT_NAME,
        comment: `StreamVault item ${itemId}`,
        announceList: this.trackers.map((t) => [t]),
        // BEP 19: a single-file torrent's web seed is the file's URL; multi-file ones append name/file.
        urlList: this.webSeedUrl ? [single ? this.urlFor(cids[0])! : this.webSeedUrl] : [],
      },
    );
    const torrentPieceCid = (await this.put(torrentBytes)).pieceCid;
    const parsed = await (await loadTorrentLibs()).parseTorrent(torrentBytes);
    const infoHash = parsed.infoHash;
    const magnet = this.#magnet(infoHash, itemId, torrentPieceCid, single ? this.urlFor(cids[0]) : this.webSeedUrl);

    if (!this.#torrents.has(infoHash)) await this.#addSeed(client, torrentBytes, single);
    if (previous && previous.infoHash !== infoHash && !Object.values(index.items).some((it) => it !== previous && it.infoHash === previous.infoHash)) {
      await this.#removeTorrent(previous.infoHash);
    }
    const seeded: SeededItem = { itemId, infoHash, magnet, torrentPieceCid, pieceCids: cids };
    index.items[itemId] = seeded;
    await this.#saveIndex();
    return seeded;
  }

  /**
   * Start the client and resume seeding every item in the index (and fetching from every known
   * remote torrent). Other calls start it lazily; a server calls this at boot so its items are
   * seeded before anyone asks for them.
   */
  async start(): Promise<void> {
    await this.#start();
  }

  /** The items this store seeds. */
  async seededItems(): Promise<SeededItem[]> {
    return Object.values((await this.#loadIndex()).items);
  }

  /**
   * Learn a remote item torrent (a magnet from a manifest mirror, with `xs=` so its metadata
   * comes over HTTP when no peer is around). Its pieces then resolve through get().
   */
  async addTorrent(location: string): Promise<{ infoHash: string; pieceCids: string[] }> {
    if (!location.startsWith("magnet:")) throw new Error(`addTorrent: expected a magnet: URI (a webtorrent PutResult.location), got ${JSON.stringify(location.slice(0, 80))}`);
    const { parseTorrent } = await loadTorrentLibs();
    const parsed = await parseTorrent(location).catch(() => undefined);
    if (!parsed?.infoHash) throw new Error(`addTorrent: not a valid magnet URI: ${JSON.stringify(location.slice(0, 80))}`);
    const index = await this.#loadIndex();
    const client = await this.#start();
    let torrent = this.#torrents.get(parsed.infoHash);
    if (!torrent) {
      index.remote[parsed.infoHash] = location;
      await this.#saveIndex();
      torrent = this.#addRemote(client, parsed.infoHash, location);
    }
    await waitReady(torrent, this.#options.fetchTimeoutMs ?? 60_000, `metadata of torrent ${parsed.infoHash}`);
    return { infoHash: parsed.infoHash, pieceCids: this.#indexFiles(torrent) };
  }

  /** Peer and transfer counters (for `streamvault storage status`). */
  async stats(): Promise<WebTorrentStats> {
    let peers = 0;
    let webSeeds = 0;
    let uploaded = this.#counters.removedUploaded;
    let downloaded = this.#counters.removedDownloaded;
    for (const t of this.#torrents.values()) {
      for (const w of t.wires) (w.type === "webSeed" ? webSeeds++ : peers++);
      uploaded += t.uploaded;
      downloaded += t.downloaded;
    }
    const index = await this.#loadIndex();
    const seededHashes = new Set(Object.values(index.items).map((i) => i.infoHash));
    let localPieces = 0;
    let localBytes = 0;
    for (const name of await readdir(this.#pieceDir).catch(() => [] as string[])) {
      if (!isPieceCid(name)) continue;
      localPieces++;
      localBytes += pieceSize(name);
    }
    return {
      seeding: seededHashes.size,
      fetching: [...this.#torrents.keys()].filter((h) => !seededHashes.has(h)).length,
      peers,
      webSeeds,
      uploadedBytes: uploaded,
      downloadedBytes: downloaded,
      fetchedPieces: this.#counters.fetchedPieces,
      hashFailures: this.#counters.hashFailures,
      integrityFailures: this.#counters.integrityFailures,
      localPieces,
      localBytes,
    };
  }

  /** The peer port once started (undefined before the first torrent). */
  get peerPort(): number | undefined {
    return this.#client?.torrentPort;
  }

  /** Destroy the torrent client (peers, trackers, web seeds). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client ?? (await this.#starting?.catch(() => undefined));
    this.#client = undefined;
    if (client) await new Promise<void>((resolve) => client.destroy(() => resolve()));
    this.#torrents.clear();
  }

  // --- internals -------------------------------------------------------------------------

  async #writePiece(cid: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    const tmpDir = join(this.dir, ".tmp");
    await mkdir(tmpDir, { recursive: true });
    await mkdir(this.#pieceDir, { recursive: true });
    // Temp file + rename: a crash never leaves a half piece under a PieceCID name (which a
    // seeding torrent would then serve).
    const tmp = join(tmpDir, `${cid}.${process.pid}.${randomBytes(4).toString("hex")}`);
    const fh = await open(tmp, "wx");
    try {
      const chunk = 4 * 1024 * 1024;
      for (let off = 0; off < bytes.length; off += chunk) {
        options.signal?.throwIfAborted();
        const part = bytes.subarray(off, Math.min(off + chunk, bytes.length));
        await fh.write(part, 0, part.length, off);
        options.onProgress?.(off + part.length, bytes.length);
      }
      await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
    await rename(tmp, this.pathFor(cid));
  }

  /**
   * A local piece (or range of it); undefined when absent. The whole file is hashed once per file
   * version (inode, size, mtime); later ranged reads (a web seed asks 16 KiB at a time) read only
   * their bytes.
   */
  async #readLocal(cid: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const path = this.pathFor(cid);
    let fh;
    try {
      fh = await open(path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      const st = await fh.stat();
      const version = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (this.#verified.get(cid) === version && range) {
        const { start, end } = resolveRange(range, st.size);
        const out = new Uint8Array(end - start + 1);
        let got = 0;
        while (got < out.length) {
          const { bytesRead } = await fh.read(out, got, out.length - got, start + got);
          if (bytesRead === 0) throw new PieceIntegrityError(cid, this.name, `file shrank to ${start + got} bytes`);
          got += bytesRead;
        }
        return out;
      }
      const bytes = new Uint8Array(await fh.readFile());
      if (this.#verified.get(cid) !== version) {
        verifyPiece(bytes, cid, this.name);
        this.#verified.set(cid, version);
      }
      return sliceRange(bytes, range);
    } finally {
      await fh.close();
    }
  }

  async #fetch(cid: string): Promise<Uint8Array> {
    const located = await this.#locate(cid);
    if (!located) throw new PieceNotFoundError(cid, this.name);
    const { torrent, file } = located;
    const timeoutMs = this.#options.fetchTimeoutMs ?? 60_000;
    const maxFailures = this.#options.maxHashFailures ?? 3;
    const failures = () => (this.#hashFailures.get(torrent.infoHash) ?? []).filter((p) => pieceInFile(torrent, file, p)).length;
    const before = failures();
    if (!file.done) {
      file.select();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`webtorrent: piece ${cid} not fetched within ${timeoutMs} ms from torrent ${torrent.infoHash} (no peer or web seed delivered it)`)), timeoutMs);
        const onWarning = () => {
          if (failures() - before >= maxFailures) {
            this.#counters.integrityFailures++;
            finish(new PieceIntegrityError(cid, this.name, `torrent pieces failed their SHA-1 check ${maxFailures} times: a peer or web seed sent corrupt bytes`));
          }
        };
        const finish = (err?: Error) => {
          clearTimeout(timer);
          file.off("done", onDone);
          torrent.off("warning", onWarning);
          torrent.off("close", onClose);
          if (err) {
            file.deselect();
            reject(err);
          } else resolve();
        };
        const onDone = () => finish();
        const onClose = () => finish(new Error(`webtorrent: torrent ${torrent.infoHash} closed while fetching ${cid}`));
        file.once("done", onDone);
        torrent.on("warning", onWarning);
        torrent.once("close", onClose);
        if (file.done) finish();
      });
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    try {
      // The torrent's SHA-1 only proves the bytes match the torrent; the PieceCID proves they are the piece.
      verifyPiece(bytes, cid, this.name);
    } catch (err) {
      this.#counters.integrityFailures++;
      throw err;
    }
    this.#counters.fetchedPieces++;
    await this.#writePiece(cid, bytes);
    return bytes;
  }

  async #locate(cid: string): Promise<Located | undefined> {
    await this.#loadIndex();
    const find = (): Located | undefined => {
      for (const hash of this.#where.get(cid) ?? []) {
        const torrent = this.#torrents.get(hash);
        const file = torrent?.ready ? torrent.files.find((f) => pieceCidOfFile(torrent, f) === cid) : undefined;
        if (torrent && file) return { torrent, file };
      }
      return undefined;
    };
    const found = find();
    if (found) return found;
    // Nothing known lists it and no remote metadata can still arrive: absent, without starting a client.
    if (!this.#where.has(cid) && Object.keys(this.#index!.remote).length === 0) return undefined;
    await this.#start();
    await Promise.all(this.#pendingMetadata);
    return find();
  }

  #seededLocation(cid: string): string | undefined {
    return Object.values(this.#index!.items).find((it) => it.pieceCids.includes(cid))?.magnet;
  }

  #magnet(infoHash: string, itemId: string, torrentPieceCid: string, webSeed: string | undefined): string {
    const parts = [`xt=urn:btih:${infoHash}`, `dn=${encodeURIComponent(itemId)}`];
    for (const t of this.trackers) parts.push(`tr=${encodeURIComponent(t)}`);
    if (webSeed) parts.push(`ws=${encodeURIComponent(webSeed)}`);
    const xs = this.urlFor(torrentPieceCid);
    if (xs) parts.push(`xs=${encodeURIComponent(xs)}`);
    return `magnet:?${parts.join("&")}`;
  }

  async #loadIndex(): Promise<IndexFile> {
    if (this.#index) return this.#index;
    let loaded: IndexFile = { version: 1, items: {}, remote: {} };
    try {
      const parsed = JSON.parse(await readFile(this.#indexPath, "utf8")) as IndexFile;
      if (parsed.version !== 1) throw new Error(`unsupported version ${String(parsed.version)}`);
      loaded = { version: 1, items: parsed.items ?? {}, remote: parsed.remote ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new Error(`webtorrent: cannot read ${this.#indexPath} (${(err as Error).message}); fix or delete it (items are re-seeded by seedItem)`);
      }
    }
    this.#index ??= loaded;
    for (const item of Object.values(this.#index.items)) {
      for (const cid of item.pieceCids) this.#note(cid, item.infoHash);
    }
    return this.#index;
  }

  async #saveIndex(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.#indexPath}.${process.pid}.${randomBytes(4).toString("hex")}`;
    await writeFile(tmp, JSON.stringify(this.#index, null, 2) + "\n");
    await rename(tmp, this.#indexPath);
  }

  #note(cid: string, infoHash: string): void {
    let set = this.#where.get(cid);
    if (!set) this.#where.set(cid, (set = new Set()));
    set.add(infoHash);
  }

  /** Start the client once and re-add every known torrent (seeds resume, fetches resume). */
  #start(): Promise<WebTorrent> {
    if (this.#closed) return Promise.reject(new Error("webtorrent store is closed"));
    this.#starting ??= (async () => {
      const index = await this.#loadIndex();
      await mkdir(this.dir, { recursive: true });
      // No DHT, local discovery, UPnP/NAT-PMP or uTP: peers come only from the configured trackers.
      const { WebTorrent } = await loadTorrentLibs();
      const client = new WebTorrent({ dht: false, lsd: false, natUpnp: false, natPmp: false, utp: false, torrentPort: this.#options.peerPort ?? 0 });
      client.on("error", () => {}); // surfaced per torrent; an unhandled 'error' would crash the host
      if (!client.listening) await new Promise<void>((resolve) => client.once("listening", () => resolve()));
      this.#client = client;
      for (const item of Object.values(index.items)) {
        if (this.#torrents.has(item.infoHash)) continue;
        const bytes = await this.#readLocal(item.torrentPieceCid).catch(() => undefined);
        if (bytes) await this.#addSeed(client, bytes, item.pieceCids.length === 1);
      }
      for (const [hash, magnet] of Object.entries(index.remote)) {
        if (!this.#torrents.has(hash)) this.#addRemote(client, hash, magnet);
      }
      return client;
    })();
    return this.#starting;
  }

  async #addSeed(client: WebTorrent, torrentBytes: Uint8Array, single: boolean): Promise<void> {
    // Our files were hashed by create-torrent (and verified at put): skip webtorrent's re-hash.
    const torrent = client.add(torrentBytes, { path: single ? this.#pieceDir : this.dir, skipVerify: true });
    this.#track(torrent);
    await waitReady(torrent, 60_000, "seeding torrent");
    this.#torrents.set(torrent.infoHash, torrent);
    this.#indexFiles(torrent);
  }

  #addRemote(client: WebTorrent, infoHash: string, magnet: string): Torrent {
    const torrent = client.add(magnet, { path: join(this.#fetchDir, infoHash), deselect: true });
    this.#torrents.set(infoHash, torrent);
    this.#track(torrent);
    const metadata = new Promise<void>((resolve) => {
      const done = () => {
        this.#pendingMetadata.delete(metadata);
        resolve();
      };
      if (torrent.ready) return done();
      torrent.once("ready", () => {
        this.#indexFiles(torrent);
        done();
      });
      torrent.once("close", done);
      // Bounded: a torrent nobody can describe must not block has()/get() forever.
      setTimeout(done, this.#options.fetchTimeoutMs ?? 60_000).unref();
    });
    this.#pendingMetadata.add(metadata);
    return torrent;
  }

  #track(torrent: Torrent): void {
    torrent.on("error", () => {});
    torrent.on("warning", (err: Error) => {
      const m = /^Piece (\d+) failed verification/.exec(err?.message ?? "");
      if (!m) return;
      this.#counters.hashFailures++;
      const list = this.#hashFailures.get(torrent.infoHash) ?? [];
      list.push(Number(m[1]));
      this.#hashFailures.set(torrent.infoHash, list);
    });
  }

  /** Record which PieceCIDs a torrent holds (files named by a PieceCID whose size matches). */
  #indexFiles(torrent: Torrent): string[] {
    const cids: string[] = [];
    for (const file of torrent.files) {
      const cid = pieceCidOfFile(torrent, file);
      if (cid) {
        cids.push(cid);
        this.#note(cid, torrent.infoHash);
      }
    }
    return cids;
  }

  async #removeTorrent(infoHash: string): Promise<void> {
    const torrent = this.#torrents.get(infoHash);
    this.#torrents.delete(infoHash);
    for (const set of this.#where.values()) set.delete(infoHash);
    if (!torrent || !this.#client) return;
    this.#counters.removedUploaded += torrent.uploaded;
    this.#counters.removedDownloaded += torrent.downloaded;
    // Keep the files: they are the store's pieces.
    await this.#client.remove(torrent, { destroyStore: false });
  }
}

/** Settings from env (see lib/storage/README.md "WebTorrent"). */
export function webtorrentStoreFromEnv(env: NodeJS.ProcessEnv, ctx: { dataDir: string; publicUrl?: string }): WebTorrentStore {
  const trackers = (env.WEBTORRENT_TRACKERS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const t of trackers) {
    if (!/^(https?|udp|wss?):\/\/[^/]/.test(t)) {
      throw new Error(`WEBTORRENT_TRACKERS: ${JSON.stringify(t)} is not a tracker URL (http://, https://, udp://, ws:// or wss://; comma-separated)`);
    }
  }
  const webSeedUrl = env.WEBTORRENT_WEB_SEED_URL || ctx.publicUrl || undefined;
  if (webSeedUrl !== undefined && !/^https?:\/\/[^/]/.test(webSeedUrl)) {
    throw new Error(`WEBTORRENT_WEB_SEED_URL: ${JSON.stringify(webSeedUrl)} must be an http(s) URL under which /piece/<cid> serves pieces (e.g. http://127.0.0.1:8787 or https://app.example/api)`);
  }
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: expected an integer ${min}..${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
  return new WebTorrentStore({
    dir: env.WEBTORRENT_DIR || join(dirname(ctx.dataDir), "webtorrent"),
    trackers,
    webSeedUrl,
    peerPort: int("WEBTORRENT_PORT", 0, 65535),
    fetchTimeoutMs: int("WEBTORRENT_FETCH_TIMEOUT_MS", 1, 3_600_000),
  });
}

async function makeTorrent(paths: string[], opts: { name: string; comment: string; announceList: string[][]; urlList: string[] }): Promise<Uint8Array> {
  const { createTorrent } = await loadTorrentLibs();
  return new Promise((resolve, reject) => {
    createTorrent(paths, { ...opts, createdBy: "StreamVault", private: false }, (err, torrent) => {
      if (err) return reject(err);
      // Every piece is >= MIN_PIECE_BYTES; a tiny torrent file gets a longer comment (outside the
      // info dictionary, so the info hash is unchanged).
      if (torrent.length >= MIN_PIECE_BYTES) return resolve(torrent);
      makeTorrent(paths, { ...opts, comment: opts.comment.padEnd(opts.comment.length + MIN_PIECE_BYTES, ".") }).then(resolve, reject);
    });
  });
}

function pieceCidOfFile(torrent: Torrent, file: TorrentFile): string | undefined {
  if (!isPieceCid(file.name)) return undefined;
  const cid = normalizePieceCid(file.name);
  // Multi-file torrents keep pieces under "piece/"; a single-file torrent is the piece itself.
  const ok = torrent.files.length === 1 ? file.path === cid || file.path === `${TORRENT_NAME}/${cid}` : file.path === `${TORRENT_NAME}/${cid}`;
  return ok && pieceSize(cid) === file.length ? cid : undefined;
}

function pieceInFile(torrent: Torrent, file: TorrentFile, pieceIndex: number): boolean {
  const start = pieceIndex * torrent.pieceLength;
  const end = start + torrent.pieceLength;
  return start < file.offset + file.length && end > file.offset;
}

function waitReady(torrent: Torrent, timeoutMs: number, what: string): Promise<void> {
  if (torrent.ready) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`webtorrent: ${what} not received within ${timeoutMs} ms (no peer, and no reachable xs= torrent URL)`)), timeoutMs);
    const onReady = () => finish();
    const onError = (err: Error) => finish(err);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      torrent.off("ready", onReady);
      torrent.off("error", onError);
      if (err) reject(err);
      else resolve();
    };
    torrent.once("ready", onReady);
    torrent.once("error", onError);
  });
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

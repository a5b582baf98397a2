/**
 * The parts of webtorrent 3, create-torrent 6, parse-torrent 11 and bittorrent-tracker 11 that
 * lib/storage/webtorrent uses (the packages ship no types; @types/webtorrent describes 1.x).
 */
declare module "webtorrent" {
  import type { EventEmitter } from "node:events";

  export interface TorrentFile {
    readonly name: string;
    /** "<torrent name>/<file name>" for multi-file torrents. */
    readonly path: string;
    readonly length: number;
    readonly offset: number;
    readonly done: boolean;
    readonly downloaded: number;
    select(priority?: number): void;
    deselect(): void;
    arrayBuffer(): Promise<ArrayBuffer>;
    on(event: "done", cb: () => void): this;
    once(event: "done", cb: () => void): this;
    off(event: "done", cb: () => void): this;
  }

  export interface Wire {
    readonly type: string;
    readonly remoteAddress?: string;
  }

  export interface Torrent extends EventEmitter {
    readonly infoHash: string;
    readonly magnetURI: string;
    readonly torrentFile: Uint8Array;
    readonly name: string;
    readonly files: TorrentFile[];
    readonly pieceLength: number;
    readonly ready: boolean;
    readonly done: boolean;
    readonly numPeers: number;
    readonly wires: Wire[];
    readonly uploaded: number;
    readonly downloaded: number;
    readonly received: number;
    readonly urlList: string[];
    readonly path: string;
    deselect(start: number, end: number): void;
    destroy(opts?: { destroyStore?: boolean }, cb?: (err?: Error) => void): void;
  }

  export interface AddOptions {
    path?: string;
    announce?: string[];
    urlList?: string[];
    skipVerify?: boolean;
    deselect?: boolean;
  }

  export interface Options {
    dht?: boolean | object;
    lsd?: boolean;
    natUpnp?: boolean | "permanent";
    natPmp?: boolean;
    utp?: boolean;
    utPex?: boolean;
    webSeeds?: boolean;
    torrentPort?: number;
    tracker?: boolean | object;
  }

  export default class WebTorrent extends EventEmitter {
    constructor(opts?: Options);
    readonly torrents: Torrent[];
    readonly torrentPort: number;
    readonly listening: boolean;
    add(torrentId: string | Uint8Array, opts?: AddOptions, ontorrent?: (t: Torrent) => void): Torrent;
    get(torrentId: string | Uint8Array): Promise<Torrent | null>;
    remove(torrentId: string | Torrent, opts?: { destroyStore?: boolean }, cb?: (err?: Error) => void): Promise<void>;
    destroy(cb?: (err?: Error) => void): void;
  }
}

declare module "create-torrent" {
  export interface CreateTorrentOptions {
    name?: string;
    comment?: string;
    createdBy?: string;
    creationDate?: Date | number;
    private?: boolean;
    pieceLength?: number;
    announceList?: string[][];
    urlList?: string[];
  }
  export default function createTorrent(
    input: string | string[] | Uint8Array | Uint8Array[],
    opts: CreateTorrentOptions,
    cb: (err: Error | null, torrent: Uint8Array) => void,
  ): void;
}

declare module "parse-torrent" {
  export interface ParsedTorrent {
    infoHash: string;
    name?: string;
    announce?: string[];
    urlList?: string[];
    xs?: string | string[];
    files?: Array<{ name: string; path: string; length: number; offset: number }>;
    info?: unknown;
  }
  export default function parseTorrent(torrentId: string | Uint8Array): Promise<ParsedTorrent>;
  export function toMagnetURI(parsed: Partial<ParsedTorrent> & { xs?: string | string[]; dn?: string; tr?: string[]; ws?: string[] }): string;
}

declare module "bittorrent-tracker" {
  import type { EventEmitter } from "node:events";
  export class Server extends EventEmitter {
    constructor(opts?: { http?: boolean; udp?: boolean; ws?: boolean; stats?: boolean; trustProxy?: boolean });
    listen(port: number, hostname: { http?: string; udp?: string; udp6?: string } | string, cb?: () => void): void;
    close(cb?: () => void): void;
    readonly http: import("node:http").Server | null;
    readonly udp4: import("node:dgram").Socket | null;
    readonly torrents: Record<string, { peers: { length: number } }>;
  }
}

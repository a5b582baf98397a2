/**
 * Plays evidence from segment requests: which segment of which item a requested piece is, and the
 * hook that counts the pieces a storage gateway serves. The counting itself (viewers, the play
 * window, the `plays` table) is in service.ts: see `PlayCounts` and `recordSegmentRequest` there.
 */
import type { IncomingMessage } from "node:http";
import type { Hex, PublicClient } from "viem";
import { cidFromBytes } from "../chain/cid.ts";
import { isUnknownContentError } from "./gate.ts";
import { contractOf, type Deployment } from "../deployments/index.ts";
import { parseManifest } from "../manifest/index.ts";
import type { Manifest } from "../manifest/schema.ts";
import { setPeerAddress, type KeyReleaseService, type SegmentPlay } from "./service.ts";

/** One segment of an item's manifest. */
export interface SegmentRef {
  variant: string;
  role: Manifest["variants"][number]["role"];
  index: number;
}

/** Answers "is this piece a segment of this item, and of which variant?" */
export interface SegmentResolver {
  resolve(contentId: Hex, pieceCid: string): Promise<SegmentRef | undefined>;
}

export interface ManifestSegmentResolverOptions {
  publicClient: PublicClient;
  /** Where ContentAccess lives: the item's manifest CID is read from `contentInfo`. */
  deployment: Deployment;
  /** Where manifests are stored (a PieceStore, or anything with `get`). */
  store: { get(pieceCid: string): Promise<Uint8Array> };
  /** How long an item's segment list is trusted before the chain is asked again (default 60 s; the manifest of an item can be updated). */
  cacheSeconds?: number;
  now?: () => number;
}

/**
 * Resolves segments from the chain (ContentAccess.contentInfo -> manifest PieceCID) and the manifest
 * in storage. Per item, cached: one chain read and one manifest read per `cacheSeconds`.
 */
export class ManifestSegmentResolver implements SegmentResolver {
  readonly #options: ManifestSegmentResolverOptions;
  readonly #contentAccess: ReturnType<typeof contractOf<"ContentAccess">>;
  readonly #cache = new Map<string, { until: number; segments: Promise<Map<string, SegmentRef> | undefined> }>();

  constructor(options: ManifestSegmentResolverOptions) {
    this.#options = options;
    this.#contentAccess = contractOf(options.deployment, "ContentAccess");
  }

  async resolve(contentId: Hex, pieceCid: string): Promise<SegmentRef | undefined> {
    const segments = await this.#segmentsOf(contentId.toLowerCase() as Hex);
    return segments?.get(pieceCid);
  }

  #segmentsOf(contentId: Hex): Promise<Map<string, SegmentRef> | undefined> {
    const now = (this.#options.now ?? Date.now)();
    const hit = this.#cache.get(contentId);
    if (hit !== undefined && now < hit.until) return hit.segments;
    if (this.#cache.size >= 10_000) this.#cache.clear();
    const segments = this.#load(contentId);
    const entry = { until: now + (this.#options.cacheSeconds ?? 60) * 1000, segments };
    this.#cache.set(contentId, entry);
    // A failed read is not cached: the next request tries again.
    segments.catch(() => this.#cache.get(contentId) === entry && this.#cache.delete(contentId));
    return segments;
  }

  async #load(contentId: Hex): Promise<Map<string, SegmentRef> | undefined> {
    let manifestBytes: Hex;
    try {
      [, , manifestBytes] = await this.#options.publicClient.readContract({ address: this.#contentAccess.address, abi: this.#contentAccess.abi, functionName: "contentInfo", args: [contentId] });
    } catch (error) {
      if (isUnknownContentError(error)) return undefined;
      throw error;
    }
    const manifest = parseManifest(await this.#options.store.get(cidFromBytes(manifestBytes)));
    const segments = new Map<string, SegmentRef>();
    for (const variant of manifest.variants) {
      for (const segment of variant.segments) segments.set(segment.pieceCid, { variant: variant.name, role: variant.role, index: segment.index });
    }
    return segments;
  }
}

/**
 * `startGateway({ ..., onPieceServed: countSegmentPlays(service) })`: every piece the gateway serves
 * with a `?c=<contentId>` query counts as a segment request of that item (see
 * `KeyReleaseService.recordSegmentRequest`). The client address is the socket's (`trustProxyHeaders`
 * of the service decides whether X-Forwarded-For is read instead).
 */
export function countSegmentPlays(service: Pick<KeyReleaseService, "recordSegmentRequest">): (req: IncomingMessage, url: URL, pieceCid: string) => Promise<SegmentPlay | undefined> {
  return async (req, url, pieceCid) => {
    if (!url.searchParams.has("c")) return undefined;
    const headers = new Headers();
    for (const name of ["cookie", "user-agent", "x-forwarded-for", "x-real-ip"]) {
      const value = req.headers[name];
      if (typeof value === "string") headers.set(name, value);
    }
    const request = new Request(url, { headers });
    setPeerAddress(request, req.socket.remoteAddress ?? "unknown");
    return service.recordSegmentRequest(request, pieceCid);
  };
}

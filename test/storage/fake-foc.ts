/**
 * Offline Filecoin Onchain Cloud for tests, built on the Synapse SDK's own mocks.
 *
 * - Chain: `@filoz/synapse-core/mocks` JSONRPC (calibration Glif URL, preset "basic"),
 *   intercepted in-process by msw.
 * - Storage provider: the SDK's mocks only acknowledge uploads (they discard the bytes and
 *   can't serve them back), so `FakeProvider` implements the same PDP HTTP API statefully:
 *   streaming upload sessions, parked-piece lookup, `/piece/:cid` retrieval, SP-to-SP pull,
 *   data-set create/add with status polling. It verifies the client's PieceCID like Curio.
 * - FilBeam CDN: `https://{payer}.calibration.filbeam.io/{cid}` served from the same bytes.
 *
 * Any request to a host not handled here fails the test (nothing reaches the network).
 */
import * as Mocks from "@filoz/synapse-core/mocks";
import * as Piece from "@filoz/synapse-core/piece";
import { HttpResponse, http } from "msw";
import type { HttpHandler } from "msw";
import { setupServer } from "msw/node";

import { decodeAbiParameters, stringToHex } from "viem";
import type { Address, Hex } from "viem";

/** Provider 1 keeps the SDK mocks' URL; provider 2 gets its own so the two are distinguishable. */
export const PDP_URL = "https://pdp.example.com";
export const PDP2_URL = "https://pdp2.example.com";

/** A data set as the fake chain records it (what FWSS + PDPVerifier would hold). */
export interface FakeDataSet {
  id: bigint;
  providerId: bigint;
  serviceProvider: Address;
  clientDataSetId: bigint;
  metadata: Record<string, string>;
  pieces: string[];
}

/** The bits of chain state that providers change: data sets created through them. */
export class FakeChain {
  readonly dataSets = new Map<bigint, FakeDataSet>();
  #nextId = 100n;
  create(ds: Omit<FakeDataSet, "id" | "pieces">): FakeDataSet {
    const rec: FakeDataSet = { ...ds, id: this.#nextId++, pieces: [] };
    this.dataSets.set(rec.id, rec);
    return rec;
  }
}

function txHash(n: number): `0x${string}` {
  return `0x${n.toString(16).padStart(64, "0")}`;
}

/** Stateful fake of a PDP storage provider's HTTP API (Curio's /pdp endpoints). */
export class FakeProvider {
  readonly baseUrl: string;
  readonly providerId: bigint;
  readonly serviceProvider: Address;
  readonly chain: FakeChain;
  /** Pieces the provider holds ("parked"), by PieceCID. */
  readonly pieces = new Map<string, Uint8Array>();
  readonly stats = { uploadSessions: 0, uploadedBytes: 0, pulls: 0, commits: 0, downloads: 0, cdnDownloads: 0 };
  /** Set to make the next N upload PUTs fail with HTTP 500 (transient provider errors). */
  failNextUploads = 0;
  #sessions = new Map<string, Uint8Array | null>();
  #txCounter = 1;
  #pending = new Map<string, { dataSetId: number; pieceIds: number[] }>();

  constructor(options: { baseUrl: string; providerId: bigint; serviceProvider: Address; chain: FakeChain }) {
    this.baseUrl = options.baseUrl;
    this.providerId = options.providerId;
    this.serviceProvider = options.serviceProvider;
    this.chain = options.chain;
  }

  /** Flip one byte of a held piece (bit rot / malicious provider). */
  corrupt(pieceCid: string): void {
    const b = this.pieces.get(pieceCid);
    if (!b) throw new Error(`fake provider has no ${pieceCid}`);
    const copy = b.slice();
    copy[0] ^= 0xff;
    this.pieces.set(pieceCid, copy);
  }

  /** Forget a piece (provider lost it). */
  drop(pieceCid: string): void {
    this.pieces.delete(pieceCid);
  }

  #commit(pieces: Array<{ pieceCid: string }>, ds: FakeDataSet): { status: number; error?: string; hash?: string } {
    for (const p of pieces) {
      if (!this.pieces.has(p.pieceCid)) return { status: 400, error: `piece ${p.pieceCid} not parked` };
    }
    const ids = pieces.map((p) => ds.pieces.push(p.pieceCid) - 1);
    this.stats.commits++;
    const hash = txHash(this.#txCounter++ + Number(this.providerId) * 1_000_000);
    this.#pending.set(hash, { dataSetId: Number(ds.id), pieceIds: ids });
    return { status: 201, hash };
  }

  /** Decode the client-signed create-data-set extraData (payer, nonce, metadata, sig). */
  #createDataSet(extraData: Hex): FakeDataSet {
    const [createExtra] = decodeAbiParameters([{ type: "bytes" }, { type: "bytes" }], extraData);
    const [, clientDataSetId, keys, values] = decodeAbiParameters(
      [{ type: "address" }, { type: "uint256" }, { type: "string[]" }, { type: "string[]" }, { type: "bytes" }],
      createExtra,
    );
    const metadata = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    return this.chain.create({
      providerId: this.providerId,
      serviceProvider: this.serviceProvider,
      clientDataSetId,
      metadata,
    });
  }

  /** msw handlers for this provider. */
  handlers(): HttpHandler[] {
    const base = this.baseUrl;
    return [
      http.get(`${base}/pdp/ping`, () => new HttpResponse(null, { status: 200 })),

      // Streaming upload: create session -> PUT bytes -> POST PieceCID to finalize.
      http.post(`${base}/pdp/piece/uploads`, () => {
        const uuid = crypto.randomUUID();
        this.#sessions.set(uuid, null);
        this.stats.uploadSessions++;
        return new HttpResponse("Created", { status: 201, headers: { Location: `/pdp/piece/uploads/${uuid}` } });
      }),
      http.put<{ uuid: string }>(`${base}/pdp/piece/uploads/:uuid`, async ({ params, request }) => {
        if (!this.#sessions.has(params.uuid)) return HttpResponse.text("no such upload", { status: 404 });
        const body = new Uint8Array(await request.arrayBuffer());
        if (this.failNextUploads > 0) {
          this.failNextUploads--;
          return HttpResponse.text("transient provider error", { status: 500 });
        }
        this.#sessions.set(params.uuid, body);
        this.stats.uploadedBytes += body.length;
        return new HttpResponse(null, { status: 204 });
      }),
      http.post<{ uuid: string }, { pieceCid: string }>(`${base}/pdp/piece/uploads/:uuid`, async ({ params, request }) => {
        const data = this.#sessions.get(params.uuid);
        if (!data) return HttpResponse.text("upload not received", { status: 400 });
        const { pieceCid } = await request.json();
        // Curio recomputes CommP and refuses a mismatching client claim.
        const actual = Piece.calculate(data).toString();
        if (actual !== pieceCid) return HttpResponse.text(`PieceCID mismatch: computed ${actual}`, { status: 400 });
        this.#sessions.delete(params.uuid);
        this.pieces.set(actual, data);
        return HttpResponse.json({ pieceCid: actual }, { status: 200 });
      }),

      // Parked-piece lookup.
      http.get(`${base}/pdp/piece`, ({ request }) => {
        const cid = new URL(request.url).searchParams.get("pieceCid") ?? "";
        return this.pieces.has(cid)
          ? HttpResponse.json({ pieceCid: cid })
          : HttpResponse.text("piece not found", { status: 404 });
      }),

      // Retrieval.
      http.get<{ cid: string }>(`${base}/piece/:cid`, ({ params }) => {
        const data = this.pieces.get(params.cid);
        if (!data) return HttpResponse.text("not found", { status: 404 });
        this.stats.downloads++;
        return HttpResponse.arrayBuffer(data.slice().buffer, { headers: { "Content-Type": "application/octet-stream" } });
      }),

      // SP-to-SP pull (secondary copies): fetch from the source URL and verify.
      http.post<never, { pieces: Array<{ pieceCid: string; sourceUrl: string }> }>(`${base}/pdp/piece/pull`, async ({ request }) => {
        const body = await request.json();
        this.stats.pulls++;
        const results = [];
        for (const p of body.pieces) {
          let status: "complete" | "failed" = "failed";
          if (this.pieces.has(p.pieceCid)) status = "complete";
          else {
            const res = await fetch(p.sourceUrl);
            if (res.ok) {
              const data = new Uint8Array(await res.arrayBuffer());
              if (Piece.calculate(data).toString() === p.pieceCid) {
                this.pieces.set(p.pieceCid, data);
                status = "complete";
              }
            }
          }
          results.push({ pieceCid: p.pieceCid, status });
        }
        const overall = results.every((r) => r.status === "complete") ? "complete" : "failed";
        return HttpResponse.json({ status: overall, pieces: results });
      }),

      // Data set creation with first pieces; status is confirmed immediately.
      http.post<never, { pieces: Array<{ pieceCid: string }>; extraData: Hex }>(`${base}/pdp/data-sets/create-and-add`, async ({ request }) => {
        const body = await request.json();
        for (const p of body.pieces) {
          if (!this.pieces.has(p.pieceCid)) return HttpResponse.text(`piece ${p.pieceCid} not parked`, { status: 400 });
        }
        const r = this.#commit(body.pieces, this.#createDataSet(body.extraData));
        if (r.status !== 201) return HttpResponse.text(r.error ?? "error", { status: r.status });
        return new HttpResponse(null, { status: 201, headers: { Location: `/pdp/data-sets/created/${r.hash}` } });
      }),
      http.get<{ hash: string }>(`${base}/pdp/data-sets/created/:hash`, ({ params }) => {
        const p = this.#pending.get(params.hash);
        if (!p) return HttpResponse.text("unknown tx", { status: 404 });
        return HttpResponse.json({
          createMessageHash: params.hash,
          dataSetCreated: true,
          service: "fake",
          txStatus: "confirmed",
          ok: true,
          dataSetId: p.dataSetId,
        });
      }),
      http.post<{ id: string }, { pieces: Array<{ pieceCid: string }> }>(`${base}/pdp/data-sets/:id/pieces`, async ({ params, request }) => {
        const body = await request.json();
        const ds = this.chain.dataSets.get(BigInt(params.id));
        if (!ds || ds.providerId !== this.providerId) return HttpResponse.text("data set not found", { status: 404 });
        const r = this.#commit(body.pieces, ds);
        if (r.status !== 201) return HttpResponse.text(r.error ?? "error", { status: r.status });
        return new HttpResponse(null, {
          status: 201,
          headers: { Location: `/pdp/data-sets/${params.id}/pieces/added/${r.hash}` },
        });
      }),
      http.get<{ id: string; hash: string }>(`${base}/pdp/data-sets/:id/pieces/added/:hash`, ({ params }) => {
        const p = this.#pending.get(params.hash);
        if (!p || p.dataSetId !== Number(params.id)) return HttpResponse.text("unknown tx", { status: 404 });
        return HttpResponse.json({
          txHash: params.hash,
          txStatus: "confirmed",
          dataSetId: p.dataSetId,
          pieceCount: p.pieceIds.length,
          addMessageOk: true,
          piecesAdded: true,
          confirmedPieceIds: p.pieceIds,
        });
      }),
    ];
  }
}

export interface FakeFoc {
  server: ReturnType<typeof setupServer>;
  chain: FakeChain;
  providers: FakeProvider[];
  /** Where the piece bytes are, across providers (for corrupt/drop helpers). */
  holders(pieceCid: string): FakeProvider[];
  /** Hosts msw refused (must stay empty: proves nothing tried to reach the network). */
  unhandled: string[];
  close(): void;
}

/**
 * The SDK's "basic" chain preset, made stateful where providers change the chain: data sets
 * created through a fake provider become visible to FWSS/PDPVerifier reads, and provider 2
 * advertises its own service URL.
 */
export function chainOptions(chain: FakeChain, debug = false): Mocks.JSONRPCOptions {
  const basic = Mocks.presets.basic;
  const zero = Mocks.ADDRESSES.zero;
  const client = Mocks.ADDRESSES.client1;
  const info = (ds: FakeDataSet) => ({
    pdpRailId: 1000n + ds.id,
    cacheMissRailId: ds.metadata.withCDN !== undefined ? 2000n + ds.id : 0n,
    cdnRailId: ds.metadata.withCDN !== undefined ? 3000n + ds.id : 0n,
    payer: client,
    payee: ds.serviceProvider,
    serviceProvider: ds.serviceProvider,
    commissionBps: 100n,
    clientDataSetId: ds.clientDataSetId,
    pdpEndEpoch: 0n,
    providerId: ds.providerId,
    cdnEndEpoch: 0n,
    dataSetId: ds.id,
  });
  const ours = () => [...chain.dataSets.values()];
  const withUrl2 = <T extends { providerId: bigint; productCapabilityValues: readonly Hex[] }>(p: T): T =>
    p.providerId === 2n ? { ...p, productCapabilityValues: [stringToHex(PDP2_URL), ...p.productCapabilityValues.slice(1)] } : p;
  return {
    ...basic,
    debug,
    warmStorageView: {
      ...basic.warmStorageView,
      getDataSet: (args) => {
        const ds = chain.dataSets.get(args[0]);
        return ds ? [info(ds)] : basic.warmStorageView.getDataSet(args);
      },
      getClientDataSets: (args) => [[...basic.warmStorageView.getClientDataSets(args)[0], ...ours().map(info)]],
      clientDataSets: (args) => [[...basic.warmStorageView.clientDataSets(args)[0], ...ours().map((d) => d.id)]],
      getClientDataSetsLength: (args) => [basic.warmStorageView.getClientDataSetsLength(args)[0] + BigInt(chain.dataSets.size)],
      railToDataSet: (args) => {
        const ds = ours().find((d) => 1000n + d.id === args[0]);
        return ds ? [ds.id] : basic.warmStorageView.railToDataSet(args);
      },
      getAllDataSetMetadata: (args) => {
        const ds = chain.dataSets.get(args[0]);
        return ds ? [Object.keys(ds.metadata), Object.values(ds.metadata)] : basic.warmStorageView.getAllDataSetMetadata(args);
      },
      getDataSetMetadata: (args) => {
        const ds = chain.dataSets.get(args[0]);
        if (!ds) return basic.warmStorageView.getDataSetMetadata(args);
        const v = ds.metadata[args[1]];
        return [v !== undefined, v ?? ""];
      },
    },
    pdpVerifier: {
      ...basic.pdpVerifier,
      getActivePieceCount: (args) => {
        const ds = chain.dataSets.get(args[0]);
        return ds ? [BigInt(ds.pieces.length)] : basic.pdpVerifier.getActivePieceCount(args);
      },
      getNextPieceId: (args) => {
        const ds = chain.dataSets.get(args[0]);
        return ds ? [BigInt(ds.pieces.length)] : basic.pdpVerifier.getNextPieceId(args);
      },
      getDataSetStorageProvider: (args) => {
        const ds = chain.dataSets.get(args[0]);
        return ds ? [ds.serviceProvider, zero] : basic.pdpVerifier.getDataSetStorageProvider(args);
      },
      getDataSetLeafCount: (args) => {
        const ds = chain.dataSets.get(args[0]);
        return ds ? [BigInt(ds.pieces.length) * 4n] : basic.pdpVerifier.getDataSetLeafCount(args);
      },
    },
    serviceRegistry: {
      ...basic.serviceRegistry,
      getProvidersByProductType: (args) => {
        const [page] = basic.serviceRegistry.getProvidersByProductType(args);
        return [{ ...page, providers: page.providers.map(withUrl2) }];
      },
      getProviderWithProduct: (args) => {
        const [p] = basic.serviceRegistry.getProviderWithProduct(args);
        return [withUrl2(p)];
      },
    },
  };
}

/**
 * Start msw with the SDK's chain mock (made stateful) + two fake providers + fake FilBeam.
 * Call once per test file (msw patches fetch globally) and `close()` in `after`.
 */
export function startFakeFoc(options: { debug?: boolean } = {}): FakeFoc {
  const chain = new FakeChain();
  const providers = [
    new FakeProvider({ baseUrl: PDP_URL, providerId: 1n, serviceProvider: Mocks.ADDRESSES.serviceProvider1, chain }),
    new FakeProvider({ baseUrl: PDP2_URL, providerId: 2n, serviceProvider: Mocks.ADDRESSES.serviceProvider2, chain }),
  ];
  const unhandled: string[] = [];
  const server = setupServer(
    Mocks.JSONRPC(chainOptions(chain, options.debug)),
    ...providers.flatMap((p) => p.handlers()),
    ...cdnHandlers(providers),
  );
  server.listen({
    onUnhandledRequest(request, print) {
      const { hostname } = new URL(request.url);
      // Local gateways in the same process are real servers on loopback: let them through.
      if (hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]") return;
      unhandled.push(`${request.method} ${request.url}`);
      print.error(); // throws inside msw: the request fails instead of going out
    },
  });
  return {
    server,
    chain,
    providers,
    holders: (cid) => providers.filter((p) => p.pieces.has(cid)),
    unhandled,
    close: () => server.close(),
  };
}

/**
 * FilBeam CDN: serves a piece when a CDN-enabled data set holds it, from the first provider
 * that has the bytes (cache misses go to the provider, as FilBeam does).
 */
export function cdnHandlers(providers: FakeProvider[], retrievalDomain = "calibration.filbeam.io"): HttpHandler[] {
  const pattern = new RegExp(`^https://(0x[0-9a-fA-F]{40})\\.${retrievalDomain.replace(/\./g, "\\.")}/(\\w+)$`);
  const stats = { downloads: 0 };
  const serve = (url: string, head: boolean) => {
    const m = pattern.exec(url);
    if (!m) return HttpResponse.text("bad url", { status: 400 });
    const cid = m[2];
    const chain = providers[0].chain;
    const onCdn = [...chain.dataSets.values()].some((d) => d.metadata.withCDN !== undefined && d.pieces.includes(cid));
    const holder = providers.find((p) => p.pieces.has(cid));
    if (!onCdn || !holder) return HttpResponse.text("not found", { status: 404 });
    const data = holder.pieces.get(cid)!;
    if (head) return new HttpResponse(null, { status: 200, headers: { "Content-Length": String(data.length) } });
    holder.stats.cdnDownloads++;
    stats.downloads++;
    return HttpResponse.arrayBuffer(data.slice().buffer);
  };
  return [
    http.head(pattern, ({ request }) => serve(request.url, true)),
    http.get(pattern, ({ request }) => serve(request.url, false)),
  ];
}

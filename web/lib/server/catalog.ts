/**
 * The catalogue for Discover, creator and content pages. Lists come from the indexer's GraphQL
 * API; when the indexer is not running (or still syncing), the same rows are read from chain
 * events so the app keeps working. Titles and artists come from each item's manifest (tags),
 * which lives in storage under the PieceCID the chain records.
 */
import { createPublicClient, http, getAbiItem, type Address, type ContractFunctionReturnType, type Hex } from "viem";
import { contentAccessAbi, contractAt, creatorRegistryAbi } from "@streamvault/lib/deployments/contracts.ts";
import { cidFromBytes } from "@streamvault/lib/chain/cid.ts";
import { INDEXER_URL, RPC_URL, contract, deployBlock } from "./config.ts";
import { loadManifest } from "./store.ts";
import { livePhaseOf } from "./live.ts";
import { scanLogs } from "@streamvault/lib/chain/logs.ts";
import type { UnlockItem } from "@streamvault/sdk";

import type { AlbumTrack } from "@/lib/client/track";

export { TIER_NAMES } from "@streamvault/lib/deployments/contract-types.ts";
import { TIER_NAMES } from "@streamvault/lib/deployments/contract-types.ts";

/** A catalogue row: the access rules the SDK's unlock options read (UnlockItem), plus what pages show. */
export interface CatalogItem extends UnlockItem {
  tierName: string;
  manifestCid: string;
  title: string;
  artist: string;
  album?: string;
  trackNumber?: number;
  /** an album/EP (one release of several tracks): its tracks in order */
  tracks?: AlbumTrack[];
  description?: string;
  /** pay-per-minute price (PaymentChannels.streamPrice); rate "0" = not offered per minute */
  streamToken: Address;
  streamRatePerMinute: string;
  kind: "audio" | "video" | "unknown";
  duration: number;
  artworkCid?: string;
  registeredAt: number;
  /** a live stream's phase while it has not ended ("starting", "live", "interrupted"); absent for everything else */
  live?: "starting" | "live" | "interrupted";
  /** the stream id of a live item (`GET /api/live/<id>`) */
  liveId?: string;
}

export interface CreatorInfo {
  id: Address;
  coin: Address;
  pass: Address;
  coinName: string;
  coinSymbol: string;
  passName: string;
  passSymbol: string;
  passMintPrice: string;
  passMaxSupply: string;
  passMintEnabled: boolean;
  profileUri: string;
  launchedAt: number;
}

export interface CatalogSource {
  source: "indexer" | "chain";
}

const client = () => createPublicClient({ transport: http(RPC_URL, { timeout: 8000 }) });

async function graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${INDEXER_URL}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
    cache: "no-store",
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`indexer answered ${res.status}`);
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data as T;
}

/** CID bytes (as hex) -> multibase base32 string, the form PieceCIDs are written in. */
export const cidToString = (bytes: Hex): string => cidFromBytes(bytes);

interface RawContent {
  id: Hex;
  creator: Address;
  tier: number;
  manifestPieceCid: string;
  price: string | bigint;
  paymentToken: Address;
  minCoinBalance: string | bigint;
  minPasses: string | bigint;
  inSubscription: boolean;
  duration: string | bigint | number;
  registeredTimestamp: string | bigint | number;
  streamPrice: { token: Address; ratePerMinute: string | bigint } | null;
}

const CONTENT_FIELDS = "id creator tier manifestPieceCid price paymentToken minCoinBalance minPasses inSubscription duration registeredTimestamp streamPrice { token ratePerMinute }";

const NO_STREAM_PRICE = "0x0000000000000000000000000000000000000000" as Address;

/** The per-minute price from the chain (rows read without the indexer). */
async function streamPriceOf(c: ReturnType<typeof client>, id: Hex): Promise<RawContent["streamPrice"]> {
  const [token, ratePerMinute] = await c.readContract({ ...contract("PaymentChannels"), functionName: "streamPrice", args: [id] });
  return { token, ratePerMinute };
}

async function contentsFromIndexer(creator?: Address): Promise<RawContent[]> {
  const where = creator ? `, where: { creator: "${creator.toLowerCase()}" }` : "";
  const data = await graphql<{ contents: { items: RawContent[] } }>(
    `{ contents(orderBy: "registeredTimestamp", orderDirection: "desc", limit: 500${where}) { items { ${CONTENT_FIELDS} } } }`,
  );
  return data.contents.items;
}

const registeredEvent = getAbiItem({ abi: contentAccessAbi, name: "ContentRegistered" });

async function contentsFromChain(creator?: Address): Promise<RawContent[]> {
  const c = client();
  const access = contract("ContentAccess");
  const logs = await scanLogs(c, deployBlock("ContentAccess"), "latest", (fromBlock, toBlock) =>
    c.getLogs({ address: access.address, event: registeredEvent, args: creator ? { creator } : undefined, fromBlock, toBlock }),
  );
  // One block read per block, however many items were registered in it.
  const timestamps = new Map<bigint, Promise<number>>();
  const timestampOf = (blockNumber: bigint) => {
    if (!timestamps.has(blockNumber)) timestamps.set(blockNumber, c.getBlock({ blockNumber }).then((b) => Number(b.timestamp)));
    return timestamps.get(blockNumber)!;
  };
  const rows = await Promise.all(
    logs.map(async (log) => {
      const id = log.args.contentId!;
      const [info, registeredTimestamp, streamPrice] = await Promise.all([
        c.readContract({ ...access, functionName: "contentInfo", args: [id] }),
        timestampOf(log.blockNumber),
        streamPriceOf(c, id),
      ]);
      return { ...rawContent(id, info, registeredTimestamp, streamPrice), blockNumber: log.blockNumber };
    }),
  );
  return rows.sort((a, b) => Number(b.blockNumber - a.blockNumber));
}

type ContentInfo = ContractFunctionReturnType<typeof contentAccessAbi, "view", "contentInfo">;

/** A catalog row from `ContentAccess.contentInfo` (the chain's view of an item). */
function rawContent(id: Hex, [creator, tier, manifestCid, rules]: ContentInfo, registeredTimestamp: number, streamPrice: RawContent["streamPrice"]): RawContent {
  return {
    id,
    creator,
    tier: Number(tier),
    manifestPieceCid: cidToString(manifestCid),
    price: rules.price,
    paymentToken: rules.paymentToken,
    minCoinBalance: rules.minCoinBalance,
    minPasses: rules.minPasses,
    inSubscription: rules.inSubscription,
    duration: rules.duration,
    registeredTimestamp,
    streamPrice,
  };
}

async function enrich(raw: RawContent): Promise<CatalogItem> {
  let manifest;
  try {
    manifest = await loadManifest(raw.manifestPieceCid);
  } catch {
    manifest = undefined;
  }
  const artwork = manifest?.artwork?.slice().sort((a, b) => a.size - b.size);
  const phase = await livePhaseOf(manifest, raw.manifestPieceCid).catch(() => undefined);
  const live = phase === "starting" || phase === "live" || phase === "interrupted" ? phase : undefined;
  return {
    ...(live ? { live, liveId: manifest!.live!.id } : {}),
    id: raw.id.toLowerCase() as Hex,
    creator: raw.creator.toLowerCase() as Address,
    tier: Number(raw.tier),
    tierName: TIER_NAMES[Number(raw.tier)] ?? "unknown",
    manifestCid: raw.manifestPieceCid,
    title: manifest?.tags.title || manifest?.contentId || `Untitled ${raw.id.slice(0, 8)}`,
    artist: manifest?.tags.artist || manifest?.tags.albumArtist || "",
    ...(manifest?.tags.album ? { album: manifest.tags.album } : {}),
    ...(manifest?.tags.trackNumber ? { trackNumber: manifest.tags.trackNumber } : {}),
    ...(manifest?.tags.description ? { description: manifest.tags.description } : {}),
    ...(manifest?.tracks ? { tracks: manifest.tracks.map((t) => ({ number: t.number, title: t.title, duration: t.duration, ...(t.artist ? { artist: t.artist } : {}) })) } : {}),
    streamToken: (raw.streamPrice?.token.toLowerCase() ?? NO_STREAM_PRICE) as Address,
    streamRatePerMinute: String(raw.streamPrice?.ratePerMinute ?? 0),
    kind: manifest?.kind ?? "unknown",
    duration: manifest?.duration ?? 0,
    artworkCid: artwork?.find((a) => a.size >= 300)?.pieceCid ?? artwork?.[artwork.length - 1]?.pieceCid,
    price: String(raw.price),
    paymentToken: raw.paymentToken.toLowerCase() as Address,
    minCoinBalance: String(raw.minCoinBalance),
    minPasses: String(raw.minPasses),
    inSubscription: Boolean(raw.inSubscription),
    accessDuration: Number(raw.duration) || 30 * 86400,
    registeredAt: Number(raw.registeredTimestamp),
  };
}

/** Every content item, newest first (optionally of one creator). */
export async function listContents(creator?: Address): Promise<{ items: CatalogItem[] } & CatalogSource> {
  let raw: RawContent[];
  let source: CatalogSource["source"] = "indexer";
  try {
    raw = await contentsFromIndexer(creator);
    // An indexer that lags far behind looks empty: prefer the chain then.
    if (raw.length === 0) throw new Error("indexer has no rows");
  } catch {
    source = "chain";
    raw = await contentsFromChain(creator);
  }
  return { items: await Promise.all(raw.map(enrich)), source };
}

/** Search by title or artist (manifest tags), case-insensitive. */
export function searchItems(items: CatalogItem[], q: string): CatalogItem[] {
  const needle = q.trim().toLowerCase();
  if (!needle) return items;
  return items.filter((i) => i.title.toLowerCase().includes(needle) || i.artist.toLowerCase().includes(needle));
}

export async function getContent(id: Hex): Promise<CatalogItem | undefined> {
  const c = client();
  const access = contract("ContentAccess");
  // The chain is the authority for rules and manifest; the indexer only adds the timestamp.
  let info;
  try {
    info = await c.readContract({ ...access, functionName: "contentInfo", args: [id] });
  } catch {
    return undefined;
  }
  let registeredTimestamp = 0;
  const streamPrice = streamPriceOf(c, id).catch(() => null);
  try {
    const data = await graphql<{ content: { registeredTimestamp: string } | null }>(
      `query($id: String!) { content(id: $id) { registeredTimestamp } }`,
      { id: id.toLowerCase() },
    );
    registeredTimestamp = Number(data.content?.registeredTimestamp ?? 0);
  } catch {
    // indexer down: no timestamp
  }
  return enrich(rawContent(id, info, registeredTimestamp, await streamPrice));
}

const launchedEvent = getAbiItem({ abi: creatorRegistryAbi, name: "CreatorLaunched" });

/** A creator row as the indexer returns it: the launch time as a timestamp string. */
type RawCreator = Omit<CreatorInfo, "launchedAt"> & { launchTimestamp: string };

export async function listCreators(): Promise<CreatorInfo[]> {
  try {
    const data = await graphql<{ creators: { items: RawCreator[] } }>(
      `{ creators(orderBy: "launchTimestamp", orderDirection: "desc", limit: 500) { items { id coin pass coinName coinSymbol passName passSymbol passMintPrice passMaxSupply passMintEnabled profileUri launchTimestamp } } }`,
    );
    if (data.creators.items.length === 0) throw new Error("empty");
    return data.creators.items.map((r) => ({ ...r, launchedAt: Number(r.launchTimestamp) }));
  } catch {
    return creatorsFromChain();
  }
}

async function creatorsFromChain(only?: Address): Promise<CreatorInfo[]> {
  const c = client();
  const registry = contract("CreatorRegistry");
  const logs = await scanLogs(c, deployBlock("CreatorRegistry"), "latest", (fromBlock, toBlock) =>
    c.getLogs({ address: registry.address, event: launchedEvent, args: only ? { creator: only } : undefined, fromBlock, toBlock }),
  );
  const out = await Promise.all(
    logs.map(async (log) => {
      const a = log.args;
      // Mint config can change after launch: read it live.
      let mintPrice = a.passParams!.mintPrice;
      let mintEnabled = a.passParams!.mintEnabled;
      try {
        const sale = await c.readContract({
          ...contractAt("CreatorPass", a.pass!),
          functionName: "saleInfo",
        });
        mintPrice = sale[2];
        mintEnabled = sale[3];
      } catch {
        // keep launch values
      }
      const block = await c.getBlock({ blockNumber: log.blockNumber });
      return {
        id: a.creator!.toLowerCase() as Address,
        coin: a.coin!,
        pass: a.pass!,
        coinName: a.coinParams!.name,
        coinSymbol: a.coinParams!.symbol,
        passName: a.passParams!.name,
        passSymbol: a.passParams!.symbol,
        passMintPrice: String(mintPrice),
        passMaxSupply: String(a.passParams!.maxSupply),
        passMintEnabled: mintEnabled,
        profileUri: a.profileURI ?? "",
        launchedAt: Number(block.timestamp),
      };
    }),
  );
  return out.reverse();
}

export async function getCreator(address: Address): Promise<CreatorInfo | undefined> {
  const c = client();
  const registry = contract("CreatorRegistry");
  const coin = await c.readContract({ ...registry, functionName: "coinOf", args: [address] });
  if (/^0x0{40}$/.test(coin)) return undefined;
  const [found] = await creatorsFromChain(address);
  return found;
}

/** `status`, `get`, `list`, `cost`: read the catalogue back (chain + storage + local journal). */
import { createWriteStream } from "node:fs";
import { readFileSync } from "node:fs";
import path from "node:path";
import { hasValidAccess, readContent, updateManifest } from "@streamvault/lib/catalog/chain/content.ts";
import { editRelease, parseReleaseMetadata } from "@streamvault/lib/media/release.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { UploadJournal } from "@streamvault/lib/catalog/uploads/journal.ts";
import { decryptManifestSegment } from "@streamvault/lib/crypto";
import { parseManifest } from "@streamvault/lib/manifest";
import type { Manifest, ManifestVariant } from "@streamvault/lib/manifest";
import { computePieceCid, creatorMonthlyCost, formatUsdfc, PieceNotFoundError } from "@streamvault/lib/storage";
import type { MediaItem, PieceStore } from "@streamvault/lib/storage";
import { CliError, EXIT, table, formatBytes, homeDir, openChain, openKeys, openStore, parseContentId, toJson } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

interface JsonOpt extends GlobalOptions {
  json?: boolean;
}

function journalOf(home: string): UploadJournal {
  return UploadJournal.load(path.join(home, "uploads", "journal.json"));
}

/** Fetch a piece and check it hashes to its PieceCID. */
export async function fetchVerified(store: PieceStore, pieceCid: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(pieceCid);
  } catch (err) {
    if (err instanceof PieceNotFoundError) throw new CliError(`piece ${pieceCid} is not in storage (${store.name})`, "not_found");
    throw new CliError(`storage read failed for ${pieceCid}: ${(err as Error).message}`, "unavailable");
  }
  const actual = computePieceCid(bytes);
  if (actual !== pieceCid) throw new CliError(`piece ${pieceCid} failed verification (bytes hash to ${actual})`, "integrity");
  return bytes;
}

export async function statusCommand(id: string, opts: JsonOpt): Promise<number> {
  const contentId = parseContentId(id);
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const onChain = await readContent(chain, contentId);
  const local = journalOf(home).get(contentId);
  if (!onChain && !local) throw new CliError(`content ${contentId} is neither registered on chain ${chain.chainId} nor in the local journal`, "not_found");
  const store = openStore(home);
  const manifestCid = onChain?.manifestCid ?? local?.manifestCid;
  const manifestStored = manifestCid ? await store.has(manifestCid) : false;
  const keys = await openKeys(home);
  const keyStored = await keys.hasKey(contentId).finally(() => keys.close());
  const access = onChain ? await hasValidAccess(chain, chain.account.address, contentId) : false;
  const status = {
    contentId,
    registered: !!onChain,
    creator: onChain?.creator,
    tier: onChain?.tier ?? local?.tier,
    manifestCid,
    manifestStored,
    keyStored,
    walletHasAccess: access,
    rules: onChain?.rules,
    collaborators: onChain?.collaborators,
    local: local ? { source: local.source, state: local.state, title: local.title, storedBytes: local.storedBytes, registerTx: local.registerTx, error: local.error } : undefined,
  };
  if (opts.json) {
    console.log(toJson(status));
  } else {
    const t = table();
    for (const [k, v] of Object.entries(status)) {
      if (v === undefined) continue;
      t.push({ [k]: typeof v === "object" ? toJson(v) : String(v) });
    }
    console.log(t.toString());
  }
  return EXIT.OK;
}

function pickVariant(manifest: Manifest, name: string | undefined): ManifestVariant {
  if (name) {
    const v = manifest.variants.find((x) => x.name === name);
    if (!v) throw new CliError(`no variant "${name}"; this item has ${manifest.variants.map((x) => x.name).join(", ")}`, "bad_input");
    return v;
  }
  const order = ["original", "high", "standard", "preview"];
  return [...manifest.variants].sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role))[0]!;
}

export interface GetOptions extends JsonOpt {
  out?: string;
  variant?: string;
}

export async function getCommand(id: string, opts: GetOptions): Promise<number> {
  const contentId = parseContentId(id);
  if (!opts.out) throw new CliError("--out FILE is required (where to write the media)", "bad_input");
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const onChain = await readContent(chain, contentId);
  if (!onChain) throw new CliError(`content ${contentId} is not registered on chain ${chain.chainId}`, "not_found");
  const store = openStore(home);
  const manifest = parseManifest(await fetchVerified(store, onChain.manifestCid));
  if (manifest.contentId.toLowerCase() !== contentId) throw new CliError(`manifest ${onChain.manifestCid} names content ${manifest.contentId}, not ${contentId}`, "integrity");
  const variant = pickVariant(manifest, opts.variant);
  let key: Uint8Array | undefined;
  if (variant.encrypted) {
    const allowed = await hasValidAccess(chain, chain.account.address, contentId);
    if (!allowed) {
      throw new CliError(`wallet ${chain.account.address} has no access to ${contentId}: buy access, or fetch a clear variant (--variant preview)`, "not_found");
    }
    const keys = await openKeys(home);
    key = await keys.getKey(contentId).finally(() => keys.close());
    if (!key) throw new CliError(`no content key for ${contentId} in the local key store (${path.join(home, "keys")}); run get where the item was uploaded`, "not_found");
  }
  const out = createWriteStream(opts.out);
  let bytes = 0;
  for (const seg of variant.segments) {
    const stored = await fetchVerified(store, seg.pieceCid);
    const plain = key ? decryptManifestSegment(key, manifest.contentId, variant, seg, stored) : stored;
    bytes += plain.length;
    if (!out.write(plain)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const result = { contentId, variant: variant.name, encrypted: variant.encrypted, segments: variant.segments.length, bytes, out: path.resolve(opts.out), format: variant.kind === "hls" ? "mpegts" : manifest.source.container };
  console.log(opts.json ? toJson(result) : `wrote ${formatBytes(bytes)} (${variant.name}, ${variant.segments.length} segments, ${result.format}${variant.encrypted ? ", decrypted" : ""}) to ${result.out}`);
  return EXIT.OK;
}

export async function listCommand(opts: JsonOpt): Promise<number> {
  const items = journalOf(homeDir(opts)).items();
  if (opts.json) {
    console.log(toJson(items));
    return EXIT.OK;
  }
  if (items.length === 0) {
    console.log("No uploads yet: run `streamvault upload <file|dir>`.");
    return EXIT.OK;
  }
  const t = table({ head: ["title", "state", "tier", "content id", "stored", "manifest"] });
  for (const i of items) t.push([i.title ?? path.basename(i.source), i.state, i.tier, i.contentId, formatBytes(i.storedBytes ?? 0), i.manifestCid ?? "-"]);
  console.log(t.toString());
  return EXIT.OK;
}

export interface CostOptions extends JsonOpt {
  plays?: string;
  playsFile?: string;
}

export async function costCommand(opts: CostOptions): Promise<number> {
  const items = journalOf(homeDir(opts)).items().filter((i) => i.storedBytes);
  if (items.length === 0) throw new CliError("nothing stored yet: upload something first (`streamvault upload <dir>`)", "not_found");
  const defaultPlays = opts.plays === undefined ? 10 : Number(opts.plays);
  if (!(defaultPlays >= 0)) throw new CliError(`--plays must be a non-negative number, got "${opts.plays}"`, "bad_input");
  let playsById: Record<string, number> = {};
  if (opts.playsFile) {
    try {
      playsById = JSON.parse(readFileSync(opts.playsFile, "utf8")) as Record<string, number>;
    } catch (err) {
      throw new CliError(`--plays-file ${opts.playsFile}: ${(err as Error).message} (expected {"<contentId>": playsPerMonth})`, "bad_input");
    }
  }
  const media: MediaItem[] = items.map((i) => ({ id: i.contentId, bytes: i.storedBytes!, playsPerMonth: playsById[i.contentId] ?? defaultPlays, exclusive: i.tier === "exclusive" }));
  const cost = creatorMonthlyCost(media);
  if (opts.json) {
    console.log(toJson({ ...cost, items: cost.items.map((c, n) => ({ ...c, title: items[n]!.title, bytes: media[n]!.bytes, playsPerMonth: media[n]!.playsPerMonth })) }));
    return EXIT.OK;
  }
  const t = table({ head: ["title", "stored", "plays/mo", "placement", "copies", "CDN", "per month", "why"] });
  cost.items.forEach((c, n) => {
    t.push([items[n]!.title ?? "-", formatBytes(media[n]!.bytes), media[n]!.playsPerMonth, c.placement.tier, c.placement.copies, c.placement.cdn ? "yes" : "no", formatUsdfc(c.total), c.placement.reasons.join("; ")]);
  });
  console.log(t.toString());
  console.log(
    `Creator total per month: ${formatUsdfc(cost.total)} (storage ${formatUsdfc(cost.storage)}, CDN egress ${formatUsdfc(cost.egress)}, ` +
      `data-set minimum top-up ${formatUsdfc(cost.minimumTopUp)} over ${cost.dataSets} data sets)`,
  );
  return EXIT.OK;
}


export interface EditOptions extends JsonOpt {
  title?: string;
  artist?: string;
  album?: string;
  track?: string;
  description?: string;
  artwork?: string;
  /** "<n>=<title>" per album track to rename */
  trackTitle?: string[];
}

/** `--track-title 2="Neon Rain"` values as track number -> title. */
function parseTrackTitles(values: readonly string[] | undefined): Record<number, string> {
  const out: Record<number, string> = {};
  for (const value of values ?? []) {
    const m = /^(\d{1,3})=(.*)$/s.exec(value);
    if (!m) throw new CliError(`--track-title ${JSON.stringify(value)}: write <track number>=<title>, e.g. --track-title "2=Neon Rain"`, "bad_input");
    out[Number(m[1])] = m[2]!;
  }
  return out;
}

/**
 * `edit <contentId>`: rename a release or change its artist, album, track number, description or
 * cover. A new manifest over the same media pieces is stored and put on chain (updateManifest).
 */
export async function editCommand(id: string, opts: EditOptions): Promise<number> {
  const contentId = parseContentId(id);
  const metadata = parseReleaseMetadata({ title: opts.title, artist: opts.artist, album: opts.album, trackNumber: opts.track, description: opts.description });
  const trackTitles = parseTrackTitles(opts.trackTitle);
  if (Object.keys(metadata).length === 0 && opts.artwork === undefined && Object.keys(trackTitles).length === 0) {
    throw new CliError("nothing to change: pass --title, --artist, --album, --track, --description, --artwork or (an album) --track-title", "bad_input");
  }
  if (opts.artwork !== undefined && !existsSync(opts.artwork)) throw new CliError(`--artwork ${opts.artwork} does not exist: pass a JPEG, PNG or WebP cover image`, "bad_input");
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const onChain = await readContent(chain, contentId);
  if (!onChain) throw new CliError(`content ${contentId} is not registered on chain ${chain.chainId}`, "not_found");
  if (onChain.creator.toLowerCase() !== chain.account.address.toLowerCase()) {
    throw new CliError(`content ${contentId} belongs to ${onChain.creator}, not this wallet (${chain.account.address}): set CREATOR_PRIVATE_KEY to the creator's key`, "bad_input");
  }
  const store = openStore(home);
  const workDir = await mkdtemp(path.join(tmpdir(), "streamvault-edit-"));
  let edited;
  try {
    edited = await editRelease(store, onChain.manifestCid, { metadata, trackTitles, artwork: opts.artwork && path.resolve(opts.artwork), workDir });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  let txHash: string | undefined;
  if (edited.changed) {
    txHash = await updateManifest(chain, contentId, edited.manifestCid);
    // The journal follows the chain, so a re-run of `upload` sees the item as done and keeps the edit.
    const journal = journalOf(home);
    if (journal.get(contentId)) journal.update(contentId, { manifestCid: edited.manifestCid, title: edited.manifest.tags.title, artist: edited.manifest.tags.artist });
  }
  const { title, artist, album, trackNumber, description } = edited.manifest.tags;
  const result = { contentId, changed: edited.changed, previousManifestCid: onChain.manifestCid, manifestCid: edited.manifestCid, txHash, title, artist, album, trackNumber, description, artwork: edited.manifest.artwork.map((a) => a.pieceCid), ...(edited.manifest.tracks ? { tracks: edited.manifest.tracks.map((t) => ({ number: t.number, title: t.title })) } : {}) };
  console.log(opts.json ? toJson(result) : edited.changed ? `updated ${contentId}: "${title}" now has manifest ${edited.manifestCid} (tx ${txHash})` : `nothing changed: ${contentId} already has these details`);
  return EXIT.OK;
}

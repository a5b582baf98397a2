/** `streamvault upload <file|dir>`: resumable batch upload + on-chain registration. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import cliProgress from "cli-progress";
import { getAddress, isAddress, parseUnits, zeroAddress } from "viem";
import type { Address } from "viem";
import { z } from "zod/v4";
import type { AccessRules, Collaborator, Tier } from "@streamvault/lib/catalog/chain/content.ts";
import { TIERS } from "@streamvault/lib/catalog/chain/content.ts";
import type { ChainContext } from "@streamvault/lib/catalog/chain/client.ts";
import { acquireLock, UploadJournal } from "@streamvault/lib/catalog/uploads/journal.ts";
import { listMediaFiles, uploadBatch } from "@streamvault/lib/catalog/uploads/uploader.ts";
import { parseReleaseMetadata } from "@streamvault/lib/media/release.ts";
import type { ReleaseMetadata } from "@streamvault/lib/media/release.ts";
import type { ItemResult, ItemSettings, UploadSummary } from "@streamvault/lib/catalog/uploads/uploader.ts";
import { CliError, EXIT, formatBytes, formatDuration, homeDir, lazyKeys, openChain, openStore, toJson, tokenDecimals } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

export interface UploadCommandOptions extends GlobalOptions {
  artworkDir?: string;
  artwork?: string;
  title?: string;
  artist?: string;
  album?: string;
  /** upload every file as ONE album release with this title (tracks in file order) */
  asAlbum?: string;
  track?: string;
  description?: string;
  previewStart?: string;
  metadata?: string;
  tier?: string;
  price?: string;
  pricePerMinute?: string;
  freeStandard?: boolean;
  token?: string;
  concurrency?: string;
  retries?: string;
  json?: boolean;
}

const ItemMetaSchema = z.strictObject({
  tier: z.enum(TIERS as readonly [Tier, ...Tier[]]).optional(),
  /** decimal amount in the payment token's units, e.g. "0.01" */
  price: z.union([z.string(), z.number()]).optional(),
  /** pay-per-minute price, decimal in the payment token's units ("0" = not offered per minute) */
  pricePerMinute: z.union([z.string(), z.number()]).optional(),
  /** "native" or an ERC-20 address */
  token: z.string().optional(),
  minCoinBalance: z.union([z.string(), z.number()]).optional(),
  minPasses: z.number().int().nonnegative().optional(),
  inSubscription: z.boolean().optional(),
  /** access period in seconds (0 = 30 days) */
  duration: z.number().int().nonnegative().optional(),
  collaborators: z.array(z.strictObject({ account: z.string(), shareBps: z.number().int().min(1).max(10_000) })).optional(),
  artwork: z.string().optional(),
  /** release metadata over the file's tags (lib/media/release.ts) */
  title: z.string().optional(),
  artist: z.string().optional(),
  album: z.string().optional(),
  trackNumber: z.number().int().nonnegative().optional(),
  description: z.string().optional(),
  /** seconds into the track the 30 s preview starts */
  previewStart: z.number().nonnegative().optional(),
  /** premium/exclusive: give the standard (192k) variant away in the clear (default false: only the 30 s preview is free) */
  freeStandard: z.boolean().optional(),
});
export type ItemMeta = z.infer<typeof ItemMetaSchema>;
const MetadataFileSchema = z.strictObject({
  defaults: ItemMetaSchema.optional(),
  /** keyed by file name (or path relative to the uploaded folder) */
  items: z.record(z.string(), ItemMetaSchema).optional(),
});

function loadMetadata(file: string | undefined): z.infer<typeof MetadataFileSchema> {
  if (!file) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new CliError(`--metadata ${file}: ${(err as Error).message}. Pass a JSON file like {"defaults":{"tier":"premium"},"items":{"song.wav":{"price":"0.01"}}}`, "bad_input");
  }
  const parsed = MetadataFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CliError(`--metadata ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, "bad_input");
  }
  return parsed.data;
}

function parseTier(value: string | undefined, where: string): Tier | undefined {
  if (value === undefined) return undefined;
  if (!(TIERS as readonly string[]).includes(value)) throw new CliError(`${where}: tier must be one of ${TIERS.join(", ")}, got "${value}"`, "bad_input");
  return value as Tier;
}

function findArtwork(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  const base = path.basename(file, path.extname(file));
  for (const ext of [".jpg", ".jpeg", ".png", ".webp"]) {
    const candidate = path.join(dir, base + ext);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Build per-file settings (tier, rules, collaborators, artwork) from flags and the metadata file. */
async function settingsResolver(opts: UploadCommandOptions, inputs: readonly string[], chain: ChainContext): Promise<(file: string) => ItemSettings> {
  const meta = loadMetadata(opts.metadata);
  parseTier(opts.tier, "--tier"); // a bad flag is refused before any file is read
  const decimals = new Map<string, number>();
  const resolved = new Map<string, ItemSettings>();
  for (const input of inputs) {
    const root = path.resolve(input);
    const files = await listMediaFiles(input);
    for (const file of files) {
      const rel = path.relative(root, file) || path.basename(file);
      // An album's settings are the album's (defaults and flags): a file's own entry names only its track.
      const own: ItemMeta = opts.asAlbum !== undefined ? {} : (itemMetaOf(meta, rel, file) ?? {});
      const m: ItemMeta = { ...meta.defaults, ...own };
      const where = `metadata for ${rel}`;
      const artwork = m.artwork ? path.resolve(path.dirname(opts.metadata ?? "."), m.artwork) : opts.artwork ? path.resolve(opts.artwork) : findArtwork(opts.artworkDir, file);
      let metadata: ReleaseMetadata;
      try {
        metadata = parseReleaseMetadata({
          title: m.title ?? opts.title,
          artist: m.artist ?? opts.artist,
          album: m.album ?? opts.album,
          trackNumber: m.trackNumber ?? opts.track,
          description: m.description ?? opts.description,
        });
      } catch (err) {
        throw new CliError(`${where}: ${(err as Error).message}`, "bad_input");
      }
      const previewText = m.previewStart ?? opts.previewStart;
      const previewStart = previewText === undefined ? undefined : Number(previewText);
      if (previewStart !== undefined && !(Number.isFinite(previewStart) && previewStart >= 0)) throw new CliError(`${where}: preview start "${previewText}" must be seconds from 0, e.g. 45`, "bad_input");
      resolved.set(file, { ...(await itemSettings(m, opts, chain, decimals, where)), artwork, metadata, previewStart });
    }
  }
  return (file) => resolved.get(file)!;
}

function itemMetaOf(meta: z.infer<typeof MetadataFileSchema>, rel: string, file: string): ItemMeta | undefined {
  return meta.items?.[rel] ?? meta.items?.[path.basename(file)];
}

/** An album's track titles in track order: each file's `title` in --metadata items, else (undefined) its title tag or file name. */
function albumTrackTitles(opts: UploadCommandOptions, inputs: readonly string[], files: readonly string[]): (string | undefined)[] {
  const meta = loadMetadata(opts.metadata);
  return files.map((file) => {
    const root = inputs.map((i) => path.resolve(i)).find((r) => file === r || file.startsWith(r + path.sep)) ?? path.dirname(file);
    return itemMetaOf(meta, path.relative(root, file) || path.basename(file), file)?.title;
  });
}

/** Tier, access rules, collaborators and pay-per-minute price of one item from its metadata and the flags (uploads and live streams). */
export async function itemSettings(m: ItemMeta, opts: Pick<UploadCommandOptions, "tier" | "price" | "pricePerMinute" | "token" | "freeStandard">, chain: ChainContext, decimals: Map<string, number>, where: string): Promise<ItemSettings> {
  const tier = parseTier(m.tier, where) ?? parseTier(opts.tier, "--tier") ?? "premium";
  const tokenText = m.token ?? opts.token ?? "native";
  if (tokenText !== "native" && !isAddress(tokenText)) throw new CliError(`${where}: token must be "native" or a 0x address`, "bad_input");
  const paymentToken = tokenText === "native" ? zeroAddress : getAddress(tokenText);
  const priceText = String(m.price ?? opts.price ?? "0");
  let price: bigint;
  try {
    price = parseUnits(priceText, await tokenDecimals(chain, paymentToken, decimals));
  } catch (err) {
    throw new CliError(`${where}: price "${priceText}" is not a decimal amount (${(err as Error).message})`, "bad_input");
  }
  if (price >= 1n << 96n) throw new CliError(`${where}: price ${priceText} is too large (uint96)`, "bad_input");
  const perMinuteText = m.pricePerMinute ?? opts.pricePerMinute;
  let streamPrice: ItemSettings["streamPrice"];
  if (perMinuteText !== undefined) {
    let ratePerMinute: bigint;
    try {
      ratePerMinute = parseUnits(String(perMinuteText), await tokenDecimals(chain, paymentToken, decimals));
    } catch (err) {
      throw new CliError(`${where}: price per minute "${perMinuteText}" is not a decimal amount (${(err as Error).message})`, "bad_input");
    }
    if (ratePerMinute < 0n || ratePerMinute >= 1n << 96n) throw new CliError(`${where}: price per minute ${perMinuteText} is out of range (uint96)`, "bad_input");
    streamPrice = { token: paymentToken, ratePerMinute };
  }
  const rules: Partial<AccessRules> = {
    price,
    paymentToken,
    inSubscription: m.inSubscription ?? tier !== "exclusive",
    minPasses: BigInt(m.minPasses ?? 0),
    minCoinBalance: BigInt(m.minCoinBalance ?? 0),
    duration: m.duration ?? 0,
  };
  const collaborators: Collaborator[] = (m.collaborators ?? []).map((c, i) => {
    if (!isAddress(c.account)) throw new CliError(`${where}: collaborators[${i}].account is not an address`, "bad_input");
    return { account: getAddress(c.account), shareBps: c.shareBps };
  });
  const total = collaborators.reduce((s, c) => s + c.shareBps, 0);
  if (total > 10_000) throw new CliError(`${where}: collaborator shares add up to ${total} bps (max 10000)`, "bad_input");
  const freeStandard = m.freeStandard ?? opts.freeStandard ?? false;
  if (freeStandard && tier === "free") throw new CliError(`${where}: --free-standard is for premium or exclusive items (a free item is in the clear anyway)`, "bad_input");
  return { tier, rules, collaborators, freeStandard, ...(streamPrice ? { streamPrice } : {}) };
}

function parsePositiveInt(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 64) throw new CliError(`${name} must be a whole number from ${min} to 64, got "${value}"`, "bad_input");
  return n;
}

export async function uploadCommand(input: string | readonly string[], opts: UploadCommandOptions): Promise<number> {
  const inputs = typeof input === "string" ? [input] : input;
  const concurrency = parsePositiveInt(opts.concurrency, "--concurrency", 2);
  const retries = parsePositiveInt(opts.retries, "--retries", 4, 0);
  if (opts.artworkDir && !existsSync(opts.artworkDir)) throw new CliError(`--artwork-dir ${opts.artworkDir} does not exist`, "bad_input");
  if (opts.artwork && !existsSync(opts.artwork)) throw new CliError(`--artwork ${opts.artwork} does not exist: pass a JPEG, PNG or WebP cover image`, "bad_input");
  const files: string[] = [];
  try {
    for (const i of inputs) files.push(...(await listMediaFiles(i)));
  } catch (err) {
    throw new CliError((err as Error).message, "bad_input");
  }
  const named = inputs.join(" ");
  if (files.length === 0) throw new CliError(`no media files in ${named}`, "bad_input");
  if (opts.asAlbum !== undefined) {
    if (!opts.asAlbum.trim()) throw new CliError("--as-album needs the album's title, e.g. --as-album \"Night Drive\"", "bad_input");
    if (files.length < 2) throw new CliError(`--as-album makes one release of several tracks, and ${named} has ${files.length} file: upload a single track without --as-album`, "bad_input");
    if (opts.title !== undefined || opts.track !== undefined || opts.previewStart !== undefined) {
      throw new CliError("--title, --track and --preview-start are per track: the album's title is --as-album, track titles go in --metadata ({\"items\":{\"01.wav\":{\"title\":\"...\"}}})", "bad_input");
    }
    if (new Set(files).size !== files.length) throw new CliError("a file is named twice: each track of an album is uploaded once", "bad_input");
  }
  // One title or track number for several files would name every track alike: per file they go in --metadata.
  if (files.length > 1 && (opts.title !== undefined || opts.track !== undefined)) {
    throw new CliError(`--title and --track name one file, and ${named} has ${files.length}: set them per file in --metadata ({"items":{"song.wav":{"title":"...","trackNumber":1}}})`, "bad_input");
  }
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const settingsFor = await settingsResolver(opts, inputs, chain);
  const album = opts.asAlbum !== undefined ? { title: opts.asAlbum.trim(), trackTitles: albumTrackTitles(opts, inputs, files) } : undefined;
  let release: () => void;
  try {
    release = acquireLock(path.join(home, "uploads", "lock"));
  } catch (err) {
    throw new CliError((err as Error).message, "busy");
  }
  const store = openStore(home);
  const keyStore = lazyKeys(home);
  const journal = UploadJournal.load(path.join(home, "uploads", "journal.json"));
  const ui = createUploadUi(album ? files.slice(0, 1) : files, !!opts.json);
  let summary: UploadSummary;
  try {
    summary = await uploadBatch({ files, home, store, keyStore, chain, journal, settingsFor, concurrency, retries, events: ui.events, ...(album ? { album } : {}) });
  } finally {
    ui.stop();
    await keyStore.close();
    release();
  }
  const summaryFile = path.join(home, "uploads", "summary.json");
  const json = toJson({ ...summary, summaryFile });
  writeFileSync(summaryFile, json + "\n");
  if (opts.json) {
    process.stdout.write(json + "\n");
  } else {
    console.log(
      `\nSummary: ${summary.succeeded} succeeded (${summary.alreadyDone} already done earlier), ` +
        (summary.duplicates > 0 ? `${summary.duplicates} duplicate${summary.duplicates === 1 ? "" : "s"} (uploaded once), ` : "") +
        `${summary.failed} failed, ${summary.total} total; ` +
        `${formatBytes(summary.totalBytes)} of sources, ${formatBytes(summary.storedBytes)} stored, ${summary.piecesUploaded} pieces uploaded, ${formatDuration(summary.durationMs)}.`,
    );
    console.log(`Summary JSON: ${summaryFile}`);
    if (summary.failed > 0) console.log("Some items failed: fix the reasons above (media errors) or simply re-run the same command (storage/chain errors resume).");
  }
  return summary.failed > 0 ? EXIT.PARTIAL : EXIT.OK;
}

interface UploadUi {
  events: Parameters<typeof uploadBatch>[0]["events"];
  stop(): void;
}

/** The report of one item: its result line, then one line per ingest warning. */
function line(r: ItemResult): string {
  const name = r.album ? `album "${r.album.title}" (${r.album.tracks} tracks)` : path.basename(r.file);
  if (r.outcome === "duplicate") {
    // The first file's own name, or its path when both have the same name (different folders).
    const first = path.basename(r.duplicateOf!) === name ? r.duplicateOf! : path.basename(r.duplicateOf!);
    return `dup    ${name}  DUPLICATE of ${first} (same bytes: uploaded and registered once, as ${r.contentId})`;
  }
  const head = r.ok
    ? `ok     ${name}  ${r.contentId}  manifest ${r.manifestCid}${r.alreadyDone ? "  (done in an earlier run)" : r.outcome === "exists" ? "  (already on chain)" : ""}`
    : `FAILED ${name}: ${r.error}`;
  return [head, ...(r.warnings ?? []).map((w) => `warn   ${name}: ${w.message}`)].join("\n");
}

function createUploadUi(files: string[], json: boolean): UploadUi {
  const total = files.length;
  let finished = 0;
  if (json) return { events: {}, stop() {} };
  if (!process.stdout.isTTY) {
    return {
      events: {
        onRetry: (file, attempt, error) => console.error(`retry  ${path.basename(file)} (attempt ${attempt}): ${error.message}`),
        onItemDone: (r) => console.log(`[${++finished}/${total}] ${line(r)}`),
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { clearOnComplete: true, hideCursor: true, format: " {bar} {percentage}% | {name} | {phase}", autopadding: true },
    cliProgress.Presets.shades_classic,
  );
  const overall = multi.create(total, 0, { name: "overall", phase: `0/${total} files` });
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    events: {
      onItemStart: (file) => bars.set(file, multi.create(1, 0, { name: path.basename(file).slice(0, 40), phase: "starting" })),
      onPhase: (file, phase) => bars.get(file)?.update({ phase }),
      onPieceProgress: (file, done, all) => {
        const bar = bars.get(file);
        bar?.setTotal(all);
        bar?.update(done, { phase: `storing ${done}/${all} pieces` });
      },
      onRetry: (file, attempt, error) => multi.log(`retry  ${path.basename(file)} (attempt ${attempt}): ${error.message}\n`),
      onItemDone: (r) => {
        const bar = bars.get(r.file);
        if (bar) multi.remove(bar);
        bars.delete(r.file);
        finished++;
        overall.update(finished, { phase: `${finished}/${total} files` });
        multi.log(line(r) + "\n");
        multi.update(); // flush the line now (the run may stop right after)
      },
    },
    stop: () => multi.stop(),
  };
}

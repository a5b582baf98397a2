/** `optimize [--apply]`: placement per item from tier and real plays (lib/storage/placement), journaled. */
import path from "node:path";
import { listAnchors } from "@streamvault/lib/catalog/backup/snapshot.ts";
import type { ChainContext } from "@streamvault/lib/catalog/chain/client.ts";
import { playsServerUrl } from "@streamvault/lib/catalog/milestones/plays.ts";
import { UploadJournal } from "@streamvault/lib/catalog/uploads/journal.ts";
import type { JournalItem } from "@streamvault/lib/catalog/uploads/journal.ts";
import { formatUsdfc, isPieceCid, pieceSize } from "@streamvault/lib/storage";
import type { PieceStore } from "@streamvault/lib/storage";
import {
  cdnStatePath,
  journalPath,
  optimizePlacement,
  placementConfig,
  PlacementJournal,
  readItemPlays,
  SetPlacementTarget,
} from "@streamvault/lib/storage/placement";
import type { OptimizeResult, PlacementConfig, PlacementItem, PlacementMove, PlacementTier } from "@streamvault/lib/storage/placement";
import { CliError, EXIT, formatBytes, homeDir, openChain, openStore, table, toJson } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

/** Catalogue items (uploaded and stored: pieces + manifest) and anchored backups, as placement sees them. */
export function placementItems(journalItems: readonly JournalItem[], anchors: readonly { index: number; pieceCid: string; size: number }[] = []): PlacementItem[] {
  const items: PlacementItem[] = [];
  for (const j of journalItems) {
    if (j.state !== "published" && j.state !== "registered") continue;
    const cids = [...new Set([...j.storedPieces, ...(j.manifestCid ? [j.manifestCid] : [])])].filter(isPieceCid);
    items.push({ id: j.contentId.toLowerCase(), title: j.title ?? path.basename(j.source), tier: j.tier as PlacementTier, pieces: cids.map((pieceCid) => ({ pieceCid, bytes: pieceSize(pieceCid) })) });
  }
  for (const a of anchors) items.push({ id: `backup:${a.index}`, title: `backup #${a.index}`, tier: "backup", pieces: [{ pieceCid: a.pieceCid, bytes: a.size }] });
  return items;
}

export interface PlacementRunOptions {
  apply: boolean;
  by: "optimize" | "watch";
  playsUrl?: string;
  config?: Partial<Omit<PlacementConfig, "backends">>;
}

export interface PlacementRun extends OptimizeResult {
  playsSource: string;
  backends: string[];
  warnings: string[];
}

/** Plan (and with `apply`, carry out) the placement of the catalogue in `home` over `store`'s backends. */
export async function runPlacement(home: string, store: PieceStore, chain: ChainContext | undefined, options: PlacementRunOptions): Promise<PlacementRun> {
  const warnings: string[] = [];
  const anchors = chain ? await listAnchors(chain) : [];
  if (!chain) warnings.push("no chain: catalogue backups are left as they are");
  const items = placementItems(UploadJournal.load(path.join(home, "uploads", "journal.json")).items(), anchors);
  const target = new SetPlacementTarget({ store, cdnStateFile: cdnStatePath(home) });
  const config = placementConfig([...target.backends], options.config);
  const contentIds = items.filter((i) => i.tier !== "backup").map((i) => i.id);
  const reading = await readItemPlays(home, contentIds, playsServerUrl(home, options.playsUrl), config.windowDays);
  if (reading.warning) warnings.push(reading.warning);
  const result = await optimizePlacement(items, reading.plays, target, config, options.apply ? { apply: true, journal: new PlacementJournal(journalPath(home)), by: options.by } : { apply: false });
  for (const d of result.decisions) if (d.shortfall) warnings.push(`${d.itemId}: ${d.shortfall}`);
  return { ...result, playsSource: reading.source, backends: config.backends, warnings };
}

/** Moves grouped per item, kind and backend (an item has one move per piece), for the table. */
export function groupMoves(moves: readonly PlacementMove[]): { title: string; tier: string; kind: string; backend: string; pieces: number; bytes: number; from: string; to: string; monthlySaving: number; reason: string }[] {
  const groups = new Map<string, ReturnType<typeof groupMoves>[number]>();
  for (const m of moves) {
    const key = `${m.itemId}|${m.kind}|${m.backend ?? ""}`;
    const g = groups.get(key);
    if (g) {
      g.pieces += m.pieceCid ? 1 : 0;
      g.bytes += m.bytes;
      g.monthlySaving += m.monthlySaving;
      continue;
    }
    const backend = m.kind === "add-copy" ? `${m.source} -> ${m.backend}` : m.backend ?? "CDN";
    groups.set(key, { title: m.title ?? m.itemId, tier: m.tier, kind: m.kind, backend, pieces: m.pieceCid ? 1 : 0, bytes: m.bytes, from: m.from, to: m.to, monthlySaving: m.monthlySaving, reason: m.reason });
  }
  return [...groups.values()];
}

export function signedUsdfc(n: number): string {
  return n < 0 ? `-${formatUsdfc(-n)}` : formatUsdfc(n);
}

export interface OptimizeOptions extends GlobalOptions {
  apply?: boolean;
  json?: boolean;
  playsUrl?: string;
  hot?: string;
  cold?: string;
  windowDays?: string;
}

function numberOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0)) throw new CliError(`${flag} must be a non-negative number, got "${value}"`, "bad_input");
  return n;
}

export function placementOverrides(opts: Pick<OptimizeOptions, "hot" | "cold" | "windowDays">): Partial<Omit<PlacementConfig, "backends">> {
  const overrides: Partial<Omit<PlacementConfig, "backends">> = {};
  const hot = numberOption(opts.hot, "--hot");
  const cold = numberOption(opts.cold, "--cold");
  const windowDays = numberOption(opts.windowDays, "--window-days");
  if (hot !== undefined) overrides.hotPlaysPerMonth = hot;
  if (cold !== undefined) overrides.coldPlaysPerMonth = cold;
  if (windowDays !== undefined) {
    if (windowDays === 0) throw new CliError("--window-days must be more than 0", "bad_input");
    overrides.windowDays = windowDays;
  }
  return overrides;
}

/** Print a placement run (the plan, and what applying did). */
export function printPlacement(run: PlacementRun, applied: boolean): void {
  for (const w of run.warnings) console.error(`warning: ${w}`);
  if (run.moves.length === 0) {
    console.log(`placement is as the policy wants (${run.decisions.length} items over ${run.backends.join(", ")}; plays from ${run.playsSource}): nothing to do`);
    return;
  }
  const t = table({ head: ["item", "tier", "move", "backend", "pieces", "bytes", "from -> to", "saving/month", "why"] });
  for (const g of groupMoves(run.moves)) t.push([g.title, g.tier, g.kind, g.backend, g.pieces || "-", formatBytes(g.bytes), `${g.from} -> ${g.to}`, signedUsdfc(g.monthlySaving), g.reason]);
  console.log(t.toString());
  console.log(`${run.moves.length} moves over ${run.backends.join(", ")}, plays from ${run.playsSource}; saving per month: ${signedUsdfc(run.monthlySaving)}`);
  if (!applied) console.log("dry run: nothing changed; run `streamvault optimize --apply` to carry it out");
  else {
    const o = run.outcome!;
    console.log(`applied ${o.applied.length}, skipped ${o.skipped.length}, failed ${o.failed.length}; journal: <home>/placement/journal.jsonl`);
    for (const f of o.failed) console.error(`failed: ${f.move.kind} ${f.move.pieceCid ?? f.move.itemId} ${f.move.backend ?? ""}: ${f.error}`);
  }
}

export async function optimizeCommand(opts: OptimizeOptions): Promise<number> {
  const home = homeDir(opts);
  const overrides = placementOverrides(opts);
  const store = openStore(home);
  let chain: ChainContext | undefined;
  try {
    chain = await openChain(opts);
  } catch {
    chain = undefined;
  }
  let run: PlacementRun;
  try {
    run = await runPlacement(home, store, chain, { apply: opts.apply === true, by: "optimize", playsUrl: opts.playsUrl, config: overrides });
  } catch (err) {
    if (err instanceof RangeError) throw new CliError(err.message, "bad_input");
    throw err;
  }
  if (opts.json) console.log(toJson({ ...run, groups: groupMoves(run.moves) }));
  else printPlacement(run, opts.apply === true);
  return run.outcome?.failed.length ? EXIT.PARTIAL : EXIT.OK;
}

/** `backup`, `restore`, `export`, `watch`. */
import path from "node:path";
import { createBackup, fetchVerifiedSnapshot, NoBackupError, SnapshotIntegrityError } from "@streamvault/lib/catalog/backup/snapshot.ts";
import { EscrowRestoreError, exportCatalog, openSnapshotEscrow, restoreSnapshot, writeRestoredKeys } from "@streamvault/lib/catalog/backup/restore.ts";
import type { KeysRestoreResult } from "@streamvault/lib/catalog/backup/restore.ts";
import { loadMilestoneConfig, runMilestoneCheck } from "@streamvault/lib/catalog/milestones/milestones.ts";
import { fetchServerPlaysPerDay, playsServerUrl, readPlays, type PlaysReading } from "@streamvault/lib/catalog/milestones/plays.ts";
import { UploadJournal } from "@streamvault/lib/catalog/uploads/journal.ts";
import { isPieceCid } from "@streamvault/lib/storage";
import { runPlacement, signedUsdfc } from "./optimize.ts";
import { walletEscrowKeyPair } from "./keys.ts";
import { CliError, EXIT, formatBytes, homeDir, lazyKeys, openChain, openKeys, openStore, toJson } from "../context.ts";
import type { Address } from "viem";
import type { GlobalOptions } from "../context.ts";

interface JsonOpt extends GlobalOptions {
  json?: boolean;
}

const journalItems = (home: string) => UploadJournal.load(path.join(home, "uploads", "journal.json")).items();

export async function backupCommand(opts: JsonOpt): Promise<number> {
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const store = openStore(home);
  const keys = await openKeys(home);
  let escrow;
  try {
    escrow = await keys.escrowOf(chain.account.address);
  } finally {
    await keys.close();
  }
  const result = await createBackup(chain, store, journalItems(home), { escrow });
  console.log(opts.json ? toJson(result) : `anchored backup #${result.index}: ${result.items} items, ${result.escrowedKeys} escrowed content keys, ${formatBytes(result.size)}, piece ${result.pieceCid}, sha256 ${result.sha256}, tx ${result.txHash}`);
  if (!escrow) console.error("warning: no key escrow set up: this backup holds no content keys, so losing the key store loses every encrypted item; run `streamvault keys escrow`, then back up again");
  return EXIT.OK;
}

export interface RestoreOptions extends JsonOpt {
  pieceCid?: string;
  /** restore this creator's snapshot (default the wallet's) */
  creator?: string;
  /** false with --no-keys: catalogue only, leave the key store alone */
  keys?: boolean;
}

export async function restoreCommand(opts: RestoreOptions): Promise<number> {
  if (opts.pieceCid !== undefined && !isPieceCid(opts.pieceCid)) throw new CliError(`--piece-cid "${opts.pieceCid}" is not a PieceCID (bafkzcib...)`, "bad_input");
  if (opts.creator !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(opts.creator)) throw new CliError(`--creator "${opts.creator}" is not an address (0x + 40 hex characters)`, "bad_input");
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const store = openStore(home);
  let verified;
  try {
    verified = await fetchVerifiedSnapshot(chain, store, opts.pieceCid, (opts.creator as Address | undefined) ?? chain.account.address);
  } catch (err) {
    if (err instanceof SnapshotIntegrityError) throw new CliError(err.message, "integrity");
    if (err instanceof NoBackupError) throw new CliError(err.message, "not_found");
    throw new CliError(`could not fetch the snapshot: ${(err as Error).message}`, "unavailable");
  }
  // Keys first: a refused escrow (wrong wallet, altered entries) leaves the home untouched.
  let keys: KeysRestoreResult | undefined;
  if (opts.keys !== false && verified.snapshot.escrow) {
    let opened;
    try {
      opened = await openSnapshotEscrow(verified.snapshot, chain.account.address, await walletEscrowKeyPair(chain), store);
    } catch (err) {
      if (err instanceof EscrowRestoreError) throw new CliError(err.message, err.code);
      throw err;
    }
    const keyStore = await openKeys(home);
    try {
      keys = await writeRestoredKeys(opened, keyStore);
    } finally {
      await keyStore.close();
    }
  }
  const result = { ...(await restoreSnapshot(home, store, verified.snapshot, verified.anchor)), keys };
  if (opts.json) console.log(toJson(result));
  else {
    if (keys) console.log(`content keys: ${keys.restored} restored from the escrow into the key store (${keys.verified} checked against a stored segment${keys.unverified.length ? `; not checkable, media not in storage: ${keys.unverified.join(", ")}` : ""})`);
    else if (opts.keys !== false) console.error("warning: this snapshot carries no escrowed content keys (taken before `streamvault keys escrow`): the key store was not rebuilt");
    console.log(`restored backup #${result.anchor.index} (${result.anchor.pieceCid}, SHA-256 verified against the chain): ${result.items} items`);
    console.log(`catalogue: ${result.catalogFile}; journal: ${result.journalFile}; manifests put back in storage: ${result.manifestsRestored}`);
    if (result.manifestsMissing.length) console.log(`manifests missing everywhere: ${result.manifestsMissing.join(", ")}`);
  }
  return result.manifestsMissing.length ? EXIT.PARTIAL : EXIT.OK;
}

export interface ExportOptions extends JsonOpt {
  out: string;
  gatewayUrl?: string;
  playsUrl?: string;
}

export async function exportCommand(opts: ExportOptions): Promise<number> {
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const store = openStore(home);
  const serverUrl = playsServerUrl(home, opts.playsUrl);
  const result = await exportCatalog(chain, store, {
    outDir: path.resolve(opts.out),
    gatewayUrl: opts.gatewayUrl ?? process.env.STORAGE_PUBLIC_URL,
    playsPerDay: serverUrl === undefined ? undefined : (ids) => fetchServerPlaysPerDay(serverUrl, ids),
  });
  for (const w of result.warnings) console.error(`warning: ${w}`);
  if (opts.json) console.log(toJson(result));
  else {
    console.log(`exported ${result.items} items to ${result.outDir} (catalog.json, tags.json, manifests/, plays-per-day/sales/credits/withdrawals/holders CSVs, addresses.json, MIGRATION.md)${result.missing.length ? `; manifests not in storage: ${result.missing.join(", ")}` : ""}`);
    console.log(`stored as piece ${result.pieceCid} (${formatBytes(result.size)}); coin ${result.addresses.coin}, pass ${result.addresses.pass}, chain ${result.addresses.chainId}`);
  }
  return result.missing.length ? EXIT.PARTIAL : EXIT.OK;
}

export interface WatchOptions extends JsonOpt {
  /** false with --no-placement */
  placement?: boolean;
  once?: boolean;
  interval?: string;
  config?: string;
  playsUrl?: string;
}

export async function watchCommand(opts: WatchOptions): Promise<number> {
  const interval = Number(opts.interval ?? "300");
  if (!(interval >= 1)) throw new CliError(`--interval must be at least 1 second, got "${opts.interval}"`, "bad_input");
  const home = homeDir(opts);
  let config;
  try {
    config = loadMilestoneConfig(opts.config ?? path.join(home, "milestones.json"));
  } catch (err) {
    throw new CliError((err as Error).message, "bad_input");
  }
  const chain = await openChain(opts);
  const store = openStore(home);
  const stateFile = path.join(home, "milestones-state.json");
  let stop = false;
  process.once("SIGINT", () => (stop = true));
  process.once("SIGTERM", () => (stop = true));
  // Plays are not on chain: the key-release server counts them (key releases, segment requests);
  // <home>/plays.json is the fallback when no server is configured or it does not answer.
  const serverUrl = playsServerUrl(home, opts.playsUrl);
  for (;;) {
    let reading: PlaysReading | undefined;
    const plays = async (contentIds: `0x${string}`[]) => {
      reading = await readPlays(home, contentIds, serverUrl);
      if (reading.warning) console.error(`warning: ${reading.warning}`);
      return reading.plays;
    };
    const keys = lazyKeys(home);
    let checked;
    try {
      checked = { ...(await runMilestoneCheck(chain, store, journalItems(home), { config, stateFile, plays, escrow: () => keys.escrowOf(chain.account.address) })), playsSource: reading?.source };
    } finally {
      await keys.close();
    }
    // Placement acts on the same plays: hot items gain CDN, cold ones drop to their tier's floor.
    // A placement failure is reported and the watcher keeps going (backups matter more).
    let placement: Awaited<ReturnType<typeof runPlacement>> | undefined;
    let placementError: string | undefined;
    if (opts.placement !== false) {
      try {
        placement = await runPlacement(home, store, chain, { apply: true, by: "watch", playsUrl: opts.playsUrl });
      } catch (err) {
        placementError = (err as Error).message;
        console.error(`warning: placement not applied: ${placementError}`);
      }
    }
    const result = { ...checked, placement: placement ? { moves: placement.moves.length, applied: placement.outcome!.applied.length, failed: placement.outcome!.failed.map((f) => f.error), monthlySaving: placement.monthlySaving } : placementError ? { error: placementError } : undefined };
    if (opts.json) console.log(toJson(result));
    else {
      const m = result.metrics;
      console.log(`${new Date().toISOString()} plays ${m.plays} (${result.playsSource}), revenue ${m.revenue}, coin holders ${m.coinHolders}, pass holders ${m.passHolders}`);
      for (const a of result.anchored) console.log(`  anchored backup #${a.index} (${a.trigger}${a.milestoneValue !== "0" ? ` ${a.milestoneValue}` : ""}): ${a.pieceCid}`);
      if (result.anchored.length === 0) console.log("  no milestone crossed");
      if (placement) {
        for (const w of placement.warnings) console.error(`warning: ${w}`);
        const o = placement.outcome!;
        console.log(placement.moves.length === 0 ? "  placement as the policy wants" : `  placement: applied ${o.applied.length} of ${placement.moves.length} moves (saving ${signedUsdfc(placement.monthlySaving)}/month), ${o.failed.length} failed`);
      }
    }
    if (opts.once || stop) return EXIT.OK;
    await new Promise((r) => setTimeout(r, interval * 1000));
    if (stop) return EXIT.OK;
  }
}

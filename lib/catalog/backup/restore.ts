/** Restore a verified snapshot into local state, and export a portable catalogue package. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Hex } from "viem";
import { serializeManifest } from "../../manifest/index.ts";
import type { Manifest } from "../../manifest/index.ts";
import type { PieceStore } from "../../storage/types.ts";
import type { ChainContext } from "../chain/client.ts";
import { readContent } from "../chain/content.ts";
import { UploadJournal, writeFileAtomic } from "../uploads/journal.ts";
import type { AnchorRecord, CatalogSnapshot } from "./snapshot.ts";
import { scanLogs } from "../../chain/logs.ts";
import { decryptManifestSegment } from "../../crypto/segment.ts";
import { parseManifest } from "../../manifest/index.ts";
import { StreamVaultError } from "../../errors.ts";
import { bytesToHexString, openEscrow, type EscrowKeyPair } from "../../keys/escrow.ts";
import type { KeyStore } from "../../keys/index.ts";

export interface RestoreResult {
  anchor: AnchorRecord;
  items: number;
  /** manifests that were missing from storage and were written back from the snapshot */
  manifestsRestored: number;
  /** manifests neither in storage nor in the snapshot */
  manifestsMissing: string[];
  journalFile: string;
  catalogFile: string;
}

/** Rebuild `<home>/catalog.json` and the upload journal from a verified snapshot; put back missing manifests. */
export async function restoreSnapshot(home: string, store: PieceStore, snapshot: CatalogSnapshot, anchor: AnchorRecord): Promise<RestoreResult> {
  const journalFile = path.join(home, "uploads", "journal.json");
  const journal = UploadJournal.load(journalFile);
  journal.data.chainId ??= snapshot.chainId;
  journal.data.creator ??= snapshot.creator;
  let manifestsRestored = 0;
  const manifestsMissing: string[] = [];
  for (const item of snapshot.items) {
    if (!(await store.has(item.manifestCid))) {
      if (item.manifest) {
        const put = await store.put(serializeManifest(item.manifest as Manifest), { pieceCid: item.manifestCid });
        if (put.pieceCid !== item.manifestCid) throw new Error(`manifest of ${item.contentId} re-serialised to ${put.pieceCid}, expected ${item.manifestCid}`);
        manifestsRestored++;
      } else {
        manifestsMissing.push(item.manifestCid);
      }
    }
    const existing = journal.get(item.contentId);
    if (existing?.state === "registered" && existing.manifestCid === item.manifestCid) continue;
    journal.data.items[item.contentId] = {
      ...existing,
      contentId: item.contentId,
      externalId: item.externalId,
      source: item.local?.source ?? existing?.source ?? "",
      sha256: item.local?.sha256 ?? existing?.sha256 ?? "",
      size: item.local?.size ?? existing?.size ?? 0,
      tier: item.tier,
      state: "registered",
      keyStored: existing?.keyStored ?? false,
      storedPieces: existing?.storedPieces ?? [],
      manifestCid: item.manifestCid,
      storedBytes: item.local?.storedBytes ?? (item.manifest ? manifestBytes(item.manifest) : undefined),
      registerTx: item.registeredTx,
      registerOutcome: "restored",
      title: item.title,
      kind: item.manifest?.kind,
      duration: item.manifest?.duration,
      attempts: existing?.attempts ?? 0,
      updatedAt: new Date().toISOString(),
    };
  }
  journal.save();
  const catalogFile = path.join(home, "catalog.json");
  writeFileAtomic(catalogFile, JSON.stringify({ restoredFrom: anchor, snapshot }, null, 1) + "\n");
  return { anchor, items: snapshot.items.length, manifestsRestored, manifestsMissing, journalFile, catalogFile };
}

function manifestBytes(m: Manifest): number {
  return m.variants.reduce((s, v) => s + v.segments.reduce((t, seg) => t + seg.size, 0), 0) + m.artwork.reduce((s, a) => s + a.bytes, 0);
}

export interface ExportOptions {
  outDir: string;
  /** base URL serving /piece/<cid>; otherwise store.urlFor, otherwise relative "/piece/<cid>" */
  gatewayUrl?: string;
}

export interface ExportResult {
  outDir: string;
  items: number;
  files: string[];
  missing: string[];
}

/**
 * Portable package of the wallet's registered catalogue:
 *   catalog.json          creator, chain, items (content id, tier, manifest CID + URL, variants with segment URLs, artwork URLs)
 *   tags.json             { contentId: tags }
 *   manifests/<id>.json   every manifest as stored (canonical JSON)
 */
export async function exportCatalog(ctx: ChainContext, store: PieceStore, options: ExportOptions): Promise<ExportResult> {
  const ca = ctx.contentAccess;
  const creator = ctx.account.address;
  const logs = await scanLogs(ctx.publicClient, BigInt(ca.blockNumber), "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", args: { creator }, fromBlock, toBlock }));
  const base = options.gatewayUrl?.replace(/\/+$/, "");
  const urlOf = (cid: string) => (base ? `${base}/piece/${cid}` : (store.urlFor?.(cid) ?? `/piece/${cid}`));
  await mkdir(path.join(options.outDir, "manifests"), { recursive: true });
  const items: unknown[] = [];
  const tags: Record<string, unknown> = {};
  const files: string[] = [];
  const missing: string[] = [];
  for (const log of logs) {
    const contentId = log.args.contentId! as Hex;
    const info = await readContent(ctx, contentId);
    if (!info) continue;
    let manifest: Manifest | undefined;
    try {
      const bytes = await store.get(info.manifestCid);
      manifest = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
      const file = path.join(options.outDir, "manifests", `${contentId}.json`);
      await writeFile(file, bytes);
      files.push(file);
    } catch {
      missing.push(info.manifestCid);
    }
    if (manifest) tags[contentId] = manifest.tags;
    items.push({
      contentId,
      externalId: log.args.externalId,
      tier: info.tier,
      price: info.rules.price.toString(),
      paymentToken: info.rules.paymentToken,
      manifestCid: info.manifestCid,
      manifestUrl: urlOf(info.manifestCid),
      title: manifest?.tags.title,
      kind: manifest?.kind,
      duration: manifest?.duration,
      encrypted: manifest?.encryption !== undefined,
      variants: manifest?.variants.map((v) => ({ name: v.name, role: v.role, encrypted: v.encrypted, bitrate: v.bitrate, segments: v.segments.map((s) => ({ index: s.index, pieceCid: s.pieceCid, url: urlOf(s.pieceCid), size: s.size })) })),
      artwork: manifest?.artwork.map((a) => ({ size: a.size, pieceCid: a.pieceCid, url: urlOf(a.pieceCid) })),
    });
  }
  const catalog = { format: "streamvault-export", version: 1, exportedAt: new Date().toISOString(), chainId: ctx.chainId, creator, contentAccess: ca.address, items };
  const catalogFile = path.join(options.outDir, "catalog.json");
  await writeFile(catalogFile, JSON.stringify(catalog, null, 2) + "\n");
  const tagsFile = path.join(options.outDir, "tags.json");
  await writeFile(tagsFile, JSON.stringify(tags, null, 2) + "\n");
  files.push(catalogFile, tagsFile);
  return { outDir: options.outDir, items: items.length, files, missing };
}

/** The snapshot carries no key escrow, or it is not this wallet's. */
export class EscrowRestoreError extends StreamVaultError {
  constructor(code: "not_found" | "forbidden" | "integrity", message: string) {
    super(code, message);
    this.name = "EscrowRestoreError";
  }
}

export interface KeysRestoreResult {
  /** keys opened, checked and written to the key store */
  restored: number;
  /** keys checked by decrypting a stored segment of their manifest */
  verified: number;
  /** keys whose manifest or first encrypted segment was not in storage (written unchecked) */
  unverified: string[];
}

/** Content keys opened from a snapshot's escrow and checked, ready for `writeRestoredKeys`. */
export interface OpenedEscrow {
  creator: string;
  publicKey: Uint8Array;
  keys: { contentId: string; key: Uint8Array }[];
  unverified: string[];
}

/**
 * Open every content key of a snapshot's escrow: `wallet` is the address that derived `pair`
 * (lib/keys/escrow.ts `deriveEscrowKeyPair`). Each key is checked against its manifest by
 * decrypting the first encrypted segment. Throws EscrowRestoreError (no escrow, another wallet's,
 * a key that does not decrypt its media) before anything is written anywhere.
 */
export async function openSnapshotEscrow(snapshot: CatalogSnapshot, wallet: string, pair: EscrowKeyPair, store: PieceStore): Promise<OpenedEscrow> {
  const escrow = snapshot.escrow;
  if (!escrow) throw new EscrowRestoreError("not_found", `this snapshot (${snapshot.createdAt}) carries no content keys: it was taken before key escrow was set up. Run \`streamvault keys escrow\` (or "Set up key escrow" in the studio) and \`streamvault backup\`, then restore from that backup`);
  if (snapshot.creator.toLowerCase() !== wallet.toLowerCase()) throw new EscrowRestoreError("forbidden", `this snapshot's escrow belongs to ${snapshot.creator}; sign with that wallet (CREATOR_PRIVATE_KEY), not ${wallet}`);
  if (bytesToHexString(pair.publicKey).toLowerCase() !== escrow.publicKey.toLowerCase()) {
    throw new EscrowRestoreError("forbidden", `the escrow key this wallet derives does not match the snapshot's (${escrow.publicKey}): sign the escrow message for chain ${escrow.chainId} and BackupRegistry ${escrow.verifyingContract}`);
  }
  const manifests = new Map(snapshot.items.map((i) => [i.contentId.toLowerCase(), i]));
  const opened: { contentId: string; key: Uint8Array }[] = [];
  const unverified: string[] = [];
  for (const entry of escrow.keys) {
    const key = await openEscrow(pair, entry.contentId, snapshot.creator, hexBytes(entry.sealed));
    const item = manifests.get(entry.contentId.toLowerCase());
    let manifest = item?.manifest as Manifest | undefined;
    if (!manifest && item && (await store.has(item.manifestCid))) manifest = parseManifest(await store.get(item.manifestCid));
    const variant = manifest?.variants.find((v) => v.encrypted && v.segments.length > 0);
    const segment = variant?.segments[0];
    if (!variant || !segment || !(await store.has(segment.pieceCid))) {
      unverified.push(entry.contentId);
    } else {
      try {
        decryptManifestSegment(key, entry.contentId, variant, segment, await store.get(segment.pieceCid));
      } catch {
        throw new EscrowRestoreError("integrity", `the escrowed key of ${entry.contentId} does not decrypt its first ${variant.name} segment (${segment.pieceCid}): the snapshot's escrow does not match the stored media; nothing was written`);
      }
    }
    opened.push({ contentId: entry.contentId, key });
  }
  return { creator: snapshot.creator, publicKey: pair.publicKey, keys: opened, unverified };
}

/** Write opened keys into the key store and register the escrow public key again, so new uploads stay escrowed. */
export async function writeRestoredKeys(opened: OpenedEscrow, keyStore: KeyStore): Promise<KeysRestoreResult> {
  for (const { contentId, key } of opened.keys) await keyStore.putKey(contentId, key);
  await keyStore.setEscrowKey(opened.creator, opened.publicKey, opened.keys.map((o) => o.contentId));
  return { restored: opened.keys.length, verified: opened.keys.length - opened.unverified.length, unverified: opened.unverified };
}

/** Rebuild the key store from a snapshot's escrow: `openSnapshotEscrow` then `writeRestoredKeys`. */
export async function restoreEscrowedKeys(snapshot: CatalogSnapshot, wallet: string, pair: EscrowKeyPair, keyStore: KeyStore, store: PieceStore): Promise<KeysRestoreResult> {
  return writeRestoredKeys(await openSnapshotEscrow(snapshot, wallet, pair, store), keyStore);
}

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/^0x/, ""), "hex"));
}

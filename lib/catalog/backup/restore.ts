/** Restore a verified snapshot into local state, and export a portable catalogue package. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Address, Hex } from "viem";
import { toCsv } from "../../csv.ts";
import { ABIS, contractOf } from "../../deployments/index.ts";
import { ROLE_NAMES } from "../../deployments/contract-types.ts";
import { holderBalances } from "./snapshot.ts";
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
  /** plays per UTC day and item (e.g. lib/catalog/milestones/plays.ts `fetchServerPlaysPerDay`); without it plays-per-day.csv has only its header */
  playsPerDay?: (contentIds: Hex[]) => Promise<{ day: string; contentId: string; plays: number }[]>;
}

export interface ExportResult {
  outDir: string;
  items: number;
  files: string[];
  missing: string[];
  /** the whole package as one piece (format "streamvault-export-bundle": every file by its path; JSON parsed, CSV and Markdown as text) */
  pieceCid: string;
  size: number;
  addresses: ExportAddresses;
  warnings: string[];
}

/** Where the creator's catalogue lives on chain: what a new host or indexer needs. */
export interface ExportAddresses {
  chainId: number;
  creator: Address;
  coin: Address;
  pass: Address;
  contracts: Record<string, Address>;
}

export const EXPORT_CSV_HEADERS = {
  "plays-per-day.csv": ["day", "content_id", "title", "plays"],
  "sales.csv": ["day", "tx", "content_id", "title", "buyer", "token", "amount", "expires_at"],
  "credits.csv": ["day", "tx", "ledger", "content_id", "title", "token", "role", "amount"],
  "withdrawals.csv": ["day", "tx", "ledger", "token", "amount"],
  "holders.csv": ["kind", "token", "holder", "balance"],
} as const;

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

  const titles = new Map(Object.entries(tags).map(([id, t]) => [id.toLowerCase(), String((t as { title?: unknown }).title ?? "")]));
  const history = await exportHistory(ctx, logs.map((l) => l.args.contentId! as Hex), titles, options);
  for (const [name, text] of Object.entries(history.texts)) {
    const file = path.join(options.outDir, name);
    await writeFile(file, text);
    files.push(file);
  }
  // The package itself becomes a piece: every file under its relative path, JSON files parsed, the others as text.
  const bundle: Record<string, unknown> = {};
  for (const file of files) {
    const text = await readFile(file, "utf8");
    bundle[path.relative(options.outDir, file)] = file.endsWith(".json") ? JSON.parse(text) : text;
  }
  const bytes = new TextEncoder().encode(JSON.stringify({ format: "streamvault-export-bundle", version: 1, exportedAt: catalog.exportedAt, chainId: ctx.chainId, creator, items: items.length, missing, files: bundle }, null, 1) + "\n");
  const put = await store.put(bytes);
  return { outDir: options.outDir, items: items.length, files, missing, pieceCid: put.pieceCid, size: bytes.length, addresses: history.addresses, warnings: history.warnings };
}

/** Day (UTC) of each block, read once per block. */
function blockDays(ctx: ChainContext): (blockNumber: bigint) => Promise<string> {
  const cache = new Map<bigint, Promise<string>>();
  return (n) => {
    if (!cache.has(n)) cache.set(n, ctx.publicClient.getBlock({ blockNumber: n }).then((b) => new Date(Number(b.timestamp) * 1000).toISOString().slice(0, 10)));
    return cache.get(n)!;
  };
}

/** The CSVs (plays per day, sales, credits, withdrawals, holders), addresses.json and MIGRATION.md, from the chain (and the plays server). */
async function exportHistory(ctx: ChainContext, contentIds: Hex[], titles: Map<string, string>, options: ExportOptions): Promise<{ texts: Record<string, string>; addresses: ExportAddresses; warnings: string[] }> {
  const pc = ctx.publicClient;
  const creator = ctx.account.address;
  const ca = ctx.contentAccess;
  const fromBlock = BigInt(ca.blockNumber);
  const dayOf = blockDays(ctx);
  const titleOf = (id: string) => titles.get(id.toLowerCase()) ?? "";
  const warnings: string[] = [];
  const ids = new Set(contentIds.map((id) => id.toLowerCase()));
  // Both revenue ledgers: purchases and subscriptions credit on ContentAccess, streams on PaymentChannels.
  const ledgers = (["ContentAccess", "PaymentChannels"] as const).filter((n) => ctx.deployment.contracts[n]).map((n) => ({ name: n, ...contractOf(ctx.deployment, n) }));

  const purchases = (await scanLogs(pc, fromBlock, "latest", (fromBlock, toBlock) => pc.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "AccessPurchased", fromBlock, toBlock }))).filter((l) => ids.has(l.args.contentId!.toLowerCase()));
  const sales = [];
  for (const l of purchases) sales.push([await dayOf(l.blockNumber!), l.transactionHash!, l.args.contentId!, titleOf(l.args.contentId!), l.args.buyer!, l.args.token!, l.args.amount!, l.args.expiresAt!]);
  const credits = [];
  const withdrawals = [];
  for (const ledger of ledgers) {
    const abi = ABIS.ContentAccess; // both ledgers inherit RevenueLedger's Credited/Withdrawn
    const credited = await scanLogs(pc, BigInt(ledger.blockNumber), "latest", (fromBlock, toBlock) => pc.getContractEvents({ address: ledger.address, abi, eventName: "Credited", args: { payee: creator }, fromBlock, toBlock }));
    for (const l of credited) credits.push([await dayOf(l.blockNumber!), l.transactionHash!, ledger.name, l.args.contentId!, titleOf(l.args.contentId!), l.args.token!, ROLE_NAMES[l.args.role!] ?? String(l.args.role), l.args.amount!]);
    const withdrawn = await scanLogs(pc, BigInt(ledger.blockNumber), "latest", (fromBlock, toBlock) => pc.getContractEvents({ address: ledger.address, abi, eventName: "Withdrawn", args: { payee: creator }, fromBlock, toBlock }));
    for (const l of withdrawn) withdrawals.push([await dayOf(l.blockNumber!), l.transactionHash!, ledger.name, l.args.token!, l.args.amount!]);
  }
  const [coin, pass] = await pc.readContract({ address: ctx.creatorRegistry.address, abi: ctx.creatorRegistry.abi, functionName: "creatorTokens", args: [creator] });
  const holders: (string | bigint)[][] = [];
  for (const [kind, token, standard] of [["coin", coin, "erc20"], ["pass", pass, "erc721"]] as const) {
    for (const [holder, balance] of await holderBalances(ctx, token, standard, fromBlock)) holders.push([kind, token, holder, balance]);
  }
  let plays: (string | number)[][] = [];
  if (options.playsPerDay) {
    try {
      plays = (await options.playsPerDay(contentIds)).map((p) => [p.day, p.contentId, titleOf(p.contentId), p.plays]);
    } catch (error) {
      warnings.push(`plays per day not exported: the plays server did not answer (${(error as Error).message})`);
    }
  } else warnings.push("plays per day not exported: no plays server configured (--plays-url, STREAMVAULT_PLAYS_URL or <home>/plays-source.json)");

  const addresses: ExportAddresses = {
    chainId: ctx.chainId,
    creator,
    coin,
    pass,
    contracts: Object.fromEntries(Object.entries(ctx.deployment.contracts).map(([k, v]) => [k, v!.address])),
  };
  const H = EXPORT_CSV_HEADERS;
  return {
    texts: {
      "plays-per-day.csv": toCsv(H["plays-per-day.csv"], plays),
      "sales.csv": toCsv(H["sales.csv"], sales),
      "credits.csv": toCsv(H["credits.csv"], credits),
      "withdrawals.csv": toCsv(H["withdrawals.csv"], withdrawals),
      "holders.csv": toCsv(H["holders.csv"], holders),
      "addresses.json": JSON.stringify(addresses, null, 2) + "\n",
      "MIGRATION.md": migrationGuide(addresses),
    },
    addresses,
    warnings,
  };
}

function migrationGuide(a: ExportAddresses): string {
  const c = a.contracts;
  return `# Moving this catalogue

This package is everything StreamVault knows about ${a.creator}'s catalogue on chain ${a.chainId}.
Amounts in the CSVs are integers in the token's smallest unit (wei for the native currency, token
address 0x0000000000000000000000000000000000000000); days are UTC.

| what | address |
| --- | --- |
| creator coin (ERC-20) | ${a.coin} |
| creator pass (ERC-721) | ${a.pass} |
| CreatorRegistry | ${c.CreatorRegistry ?? "-"} |
| ContentAccess (items, rules, purchases) | ${c.ContentAccess ?? "-"} |
| PaymentChannels (streams) | ${c.PaymentChannels ?? "-"} |
| BackupRegistry (anchored snapshots) | ${c.BackupRegistry ?? "-"} |

1. **Media.** Every manifest is in \`manifests/\`, every segment and artwork is listed in
   \`catalog.json\` with its PieceCID and a download URL. Fetch them from any gateway or storage
   provider holding those PieceCIDs; the bytes are checked against the PieceCID, so any copy will do.
2. **Content keys.** Encrypted items need their content keys. They are not in this package: they
   are in the latest backup snapshot, sealed to your wallet (\`streamvault keys escrow\`, then
   \`streamvault backup\`). On the new host run \`streamvault restore\` with your wallet's key
   (CREATOR_PRIVATE_KEY): it checks the snapshot against BackupRegistry and rebuilds the key store.
3. **Access.** Rules, prices, purchases and subscriptions live on ContentAccess: nothing to move. A
   new key-release server pointed at the same chain and key store serves your fans at once.
4. **Fans and money.** Coin and pass holders (\`holders.csv\`) and your earnings (\`credits.csv\`,
   \`withdrawals.csv\`) are on chain; withdraw from ContentAccess and PaymentChannels with your wallet.
5. **History.** \`sales.csv\` and \`plays-per-day.csv\` are for your records; plays are counted by the
   key-release server, so a new server starts counting from zero.
`;
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

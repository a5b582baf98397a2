/**
 * Catalogue snapshots: everything needed to rebuild a creator's catalogue, read from the chain
 * (registrations, current rules/manifests, earnings, purchases, coin/pass holders) plus the
 * manifests themselves from storage and the local upload journal. Stored as a piece and anchored
 * on BackupRegistry with its SHA-256; restore checks the bytes against the chain before use.
 */
import { createHash } from "node:crypto";
import { erc20Abi, zeroAddress } from "viem";
import type { Address, Hex } from "viem";
import { ABIS } from "../../deployments/index.ts";
import { parseManifest } from "../../manifest/index.ts";
import type { Manifest } from "../../manifest/index.ts";
import { computePieceCid } from "../../storage/piece.ts";
import type { PieceStore } from "../../storage/types.ts";
import type { ChainContext } from "../chain/client.ts";
import { sendAndWait } from "../chain/client.ts";
import { cidFromBytes, cidToBytes } from "../../chain/cid.ts";
import { readContent } from "../chain/content.ts";
import type { AccessRules, Collaborator, Tier } from "../chain/content.ts";
import type { JournalItem } from "../uploads/journal.ts";
import { StreamVaultError } from "../../errors.ts";
import { scanLogs } from "../../chain/logs.ts";
import { bytesToHexString, ESCROW_ALG, type CreatorEscrow } from "../../keys/escrow.ts";

export const SNAPSHOT_FORMAT = "streamvault-catalog-snapshot";

export interface SnapshotItem {
  contentId: Hex;
  externalId: Hex;
  tier: Tier;
  manifestCid: string;
  rules: AccessRules;
  collaborators: Collaborator[];
  registeredBlock: string;
  registeredTx: Hex;
  /** the manifest itself (so the catalogue survives even if the manifest piece is lost) */
  manifest?: Manifest;
  title?: string;
  local?: { source: string; sha256: string; size: number; storedBytes?: number };
  stats: { purchases: number; revenueByToken: Record<string, string> };
}

/**
 * The creator's content keys sealed to the escrow key their wallet derives (lib/keys/escrow.ts):
 * useless without that wallet, enough with it to rebuild the key store (`streamvault restore`).
 */
export interface SnapshotEscrow {
  alg: typeof ESCROW_ALG;
  /** X25519 public key the keys are sealed to, 0x hex */
  publicKey: Hex;
  /** the EIP-712 domain the wallet signs: chain id and verifyingContract (BackupRegistry) */
  chainId: number;
  verifyingContract: Address;
  keys: { contentId: Hex; sealed: Hex }[];
}

export interface CatalogSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: 1;
  createdAt: string;
  chainId: number;
  creator: Address;
  contracts: Record<string, Address>;
  profile: { profileURI: string; coin: Address; pass: Address; passName?: string; passSymbol?: string; passSupply?: string; coinName?: string; coinSymbol?: string };
  items: SnapshotItem[];
  earnings: { creditedByToken: Record<string, string>; withdrawnByToken: Record<string, string>; balanceByToken: Record<string, string> };
  stats: { items: number; purchases: number; coinHolders: number; passHolders: number; plays?: number };
  /** absent when the creator has not set up key escrow */
  escrow?: SnapshotEscrow;
}

export interface CatalogMetrics {
  coinHolders: number;
  passHolders: number;
  /** sum of everything credited to the creator, per token (address(0) = native) */
  revenueByToken: Record<string, bigint>;
  purchases: number;
}

const add = (m: Record<string, bigint>, k: string, v: bigint) => (m[k] = (m[k] ?? 0n) + v);
const str = (m: Record<string, bigint>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.toString()]));

/** Holders with a positive balance, replayed from Transfer logs (ERC-20 amounts or ERC-721 ids). */
async function holders(ctx: ChainContext, token: Address, kind: "erc20" | "erc721", fromBlock: bigint): Promise<number> {
  return (await holderBalances(ctx, token, kind, fromBlock)).size;
}

/** Every holder with a positive balance (ERC-20 amount, or number of ERC-721 tokens), replayed from Transfer logs. */
export async function holderBalances(ctx: ChainContext, token: Address, kind: "erc20" | "erc721", fromBlock: bigint = BigInt(ctx.contentAccess.blockNumber)): Promise<Map<Address, bigint>> {
  if (token === zeroAddress) return new Map();
  const balances = new Map<string, bigint>();
  if (kind === "erc20") {
    const logs = await scanLogs(ctx.publicClient, fromBlock, "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: token, abi: erc20Abi, eventName: "Transfer", fromBlock, toBlock }));
    for (const l of logs) {
      const { from, to, value } = l.args as { from: Address; to: Address; value: bigint };
      if (from !== zeroAddress) balances.set(from, (balances.get(from) ?? 0n) - value);
      if (to !== zeroAddress) balances.set(to, (balances.get(to) ?? 0n) + value);
    }
  } else {
    const logs = await scanLogs(ctx.publicClient, fromBlock, "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: token, abi: ABIS.CreatorPass, eventName: "Transfer", fromBlock, toBlock }));
    for (const l of logs) {
      const { from, to } = l.args as { from: Address; to: Address };
      if (from !== zeroAddress) balances.set(from, (balances.get(from) ?? 0n) - 1n);
      if (to !== zeroAddress) balances.set(to, (balances.get(to) ?? 0n) + 1n);
    }
  }
  return new Map([...balances].filter(([, b]) => b > 0n).map(([a, b]) => [a as Address, b]));
}

/** On-chain metrics of a creator (milestones and snapshot stats). */
export async function readMetrics(ctx: ChainContext, creator: Address = ctx.account.address): Promise<CatalogMetrics & { coin: Address; pass: Address; contentIds: Hex[] }> {
  const ca = ctx.contentAccess;
  const fromBlock = BigInt(ca.blockNumber);
  const [coin, pass] = await ctx.publicClient.readContract({ address: ctx.creatorRegistry.address, abi: ctx.creatorRegistry.abi, functionName: "creatorTokens", args: [creator] });
  const credited = await scanLogs(ctx.publicClient, fromBlock, "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "Credited", args: { payee: creator }, fromBlock, toBlock }));
  const revenueByToken: Record<string, bigint> = {};
  for (const l of credited) add(revenueByToken, l.args.token!, l.args.amount!);
  const registered = await scanLogs(ctx.publicClient, fromBlock, "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", args: { creator }, fromBlock, toBlock }));
  const contentIds = registered.map((l) => l.args.contentId!);
  const ids = new Set(contentIds);
  const purchases = (await scanLogs(ctx.publicClient, fromBlock, "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "AccessPurchased", fromBlock, toBlock }))).filter((l) => ids.has(l.args.contentId!)).length;
  return {
    coin,
    pass,
    contentIds,
    coinHolders: await holders(ctx, coin, "erc20", fromBlock),
    passHolders: await holders(ctx, pass, "erc721", fromBlock),
    revenueByToken,
    purchases,
  };
}

/** Build the snapshot of the wallet's catalogue. */
export async function buildSnapshot(ctx: ChainContext, store: PieceStore, journalItems: JournalItem[], extra: { plays?: number; escrow?: CreatorEscrow } = {}): Promise<CatalogSnapshot> {
  const creator = ctx.account.address;
  const ca = ctx.contentAccess;
  const fromBlock = BigInt(ca.blockNumber);
  const pc = ctx.publicClient;
  const metrics = await readMetrics(ctx, creator);
  const registered = await scanLogs(pc, fromBlock, "latest", (fromBlock, toBlock) => pc.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", args: { creator }, fromBlock, toBlock }));
  const purchases = await scanLogs(pc, fromBlock, "latest", (fromBlock, toBlock) => pc.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "AccessPurchased", fromBlock, toBlock }));
  const credited = await scanLogs(pc, fromBlock, "latest", (fromBlock, toBlock) => pc.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "Credited", args: { payee: creator }, fromBlock, toBlock }));
  const withdrawn = await scanLogs(pc, fromBlock, "latest", (fromBlock, toBlock) => pc.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "Withdrawn", args: { payee: creator }, fromBlock, toBlock }));
  const byId = new Map(journalItems.map((i) => [i.contentId.toLowerCase(), i]));

  const items: SnapshotItem[] = [];
  for (const log of registered) {
    const contentId = log.args.contentId!;
    const current = await readContent(ctx, contentId);
    if (!current) continue;
    let manifest: Manifest | undefined;
    try {
      const bytes = await store.get(current.manifestCid);
      if (computePieceCid(bytes) === current.manifestCid) manifest = parseManifest(bytes);
    } catch {
      manifest = undefined; // recorded without the embedded manifest; restore reports it
    }
    const local = byId.get(contentId.toLowerCase());
    const revenue: Record<string, bigint> = {};
    for (const c of credited) if (c.args.contentId === contentId) add(revenue, c.args.token!, c.args.amount!);
    items.push({
      contentId,
      externalId: log.args.externalId!,
      tier: current.tier,
      manifestCid: current.manifestCid,
      rules: current.rules,
      collaborators: current.collaborators,
      registeredBlock: log.blockNumber!.toString(),
      registeredTx: log.transactionHash!,
      manifest,
      title: manifest?.tags.title ?? local?.title,
      local: local ? { source: local.source, sha256: local.sha256, size: local.size, storedBytes: local.storedBytes } : undefined,
      stats: { purchases: purchases.filter((p) => p.args.contentId === contentId).length, revenueByToken: str(revenue) },
    });
  }
  const creditedByToken: Record<string, bigint> = {};
  for (const c of credited) add(creditedByToken, c.args.token!, c.args.amount!);
  const withdrawnByToken: Record<string, bigint> = {};
  for (const w of withdrawn) add(withdrawnByToken, w.args.token!, w.args.amount!);
  const balanceByToken: Record<string, string> = {};
  for (const token of new Set([...Object.keys(creditedByToken), zeroAddress])) {
    balanceByToken[token] = (await pc.readContract({ address: ca.address, abi: ca.abi, functionName: "balanceOf", args: [creator, token as Address] })).toString();
  }
  const profileURI = await pc.readContract({ address: ctx.creatorRegistry.address, abi: ctx.creatorRegistry.abi, functionName: "profileURI", args: [creator] });
  const profile: CatalogSnapshot["profile"] = { profileURI, coin: metrics.coin, pass: metrics.pass };
  if (metrics.pass !== zeroAddress) {
    profile.passName = await pc.readContract({ address: metrics.pass, abi: ABIS.CreatorPass, functionName: "name" });
    profile.passSymbol = await pc.readContract({ address: metrics.pass, abi: ABIS.CreatorPass, functionName: "symbol" });
    profile.passSupply = (await pc.readContract({ address: metrics.pass, abi: ABIS.CreatorPass, functionName: "totalSupply" })).toString();
  }
  if (metrics.coin !== zeroAddress) {
    profile.coinName = await pc.readContract({ address: metrics.coin, abi: erc20Abi, functionName: "name" });
    profile.coinSymbol = await pc.readContract({ address: metrics.coin, abi: erc20Abi, functionName: "symbol" });
  }
  return {
    format: SNAPSHOT_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    chainId: ctx.chainId,
    creator,
    contracts: Object.fromEntries(Object.entries(ctx.deployment.contracts).map(([k, v]) => [k, v!.address])),
    profile,
    items,
    earnings: { creditedByToken: str(creditedByToken), withdrawnByToken: str(withdrawnByToken), balanceByToken },
    stats: { items: items.length, purchases: metrics.purchases, coinHolders: metrics.coinHolders, passHolders: metrics.passHolders, ...(extra.plays !== undefined ? { plays: extra.plays } : {}) },
    ...(extra.escrow
      ? {
          escrow: {
            alg: ESCROW_ALG,
            publicKey: bytesToHexString(extra.escrow.publicKey),
            chainId: ctx.chainId,
            verifyingContract: ctx.backupRegistry.address,
            keys: extra.escrow.keys.map((k) => ({ contentId: k.contentId as Hex, sealed: bytesToHexString(k.sealed) })),
          },
        }
      : {}),
  };
}

export function serializeSnapshot(snapshot: CatalogSnapshot): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(snapshot, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 1) + "\n");
}

export function sha256Hex(bytes: Uint8Array): Hex {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

/** BackupRegistry trigger codes. */
export const TRIGGER = { manual: 0, follower: 1, play: 2, revenue: 3, quarterly: 4 } as const;
export type TriggerName = keyof typeof TRIGGER;

export interface AnchoredBackup {
  index: number;
  pieceCid: string;
  sha256: Hex;
  size: number;
  txHash: Hex;
  trigger: TriggerName;
  milestoneValue: string;
  items: number;
  /** content keys escrowed in the snapshot (0 without escrow) */
  escrowedKeys: number;
}

/** Snapshot -> piece -> BackupRegistry.anchorBackup. */
export async function createBackup(ctx: ChainContext, store: PieceStore, journalItems: JournalItem[], options: { trigger?: TriggerName; milestoneValue?: bigint; plays?: number; escrow?: CreatorEscrow } = {}): Promise<AnchoredBackup> {
  const snapshot = await buildSnapshot(ctx, store, journalItems, { plays: options.plays, escrow: options.escrow });
  const bytes = serializeSnapshot(snapshot);
  const put = await store.put(bytes);
  const digest = sha256Hex(bytes);
  const trigger = options.trigger ?? "manual";
  const milestoneValue = options.milestoneValue ?? 0n;
  const br = ctx.backupRegistry;
  const { hash, blockNumber } = await sendAndWait(ctx, () =>
    ctx.walletClient.writeContract({ address: br.address, abi: br.abi, functionName: "anchorBackup", args: [ctx.account.address, cidToBytes(put.pieceCid), digest, BigInt(bytes.length), TRIGGER[trigger], milestoneValue] }),
  );
  const events = await ctx.publicClient.getContractEvents({ address: br.address, abi: br.abi, eventName: "BackupAnchored", args: { creator: ctx.account.address }, fromBlock: blockNumber, toBlock: blockNumber });
  const mine = events.find((e) => e.transactionHash === hash);
  return { index: Number(mine?.args.index ?? -1), pieceCid: put.pieceCid, sha256: digest, size: bytes.length, txHash: hash, trigger, milestoneValue: milestoneValue.toString(), items: snapshot.items.length, escrowedKeys: snapshot.escrow?.keys.length ?? 0 };
}

export interface AnchorRecord {
  index: number;
  pieceCid: string;
  sha256: Hex;
  size: number;
  anchoredAt: number;
  trigger: number;
}

/** Every snapshot anchored for `creator`, oldest first (PieceCIDs from events, digests from storage). */
export async function listAnchors(ctx: ChainContext, creator: Address = ctx.account.address): Promise<AnchorRecord[]> {
  const br = ctx.backupRegistry;
  const events = await scanLogs(ctx.publicClient, BigInt(br.blockNumber), "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: br.address, abi: br.abi, eventName: "BackupAnchored", args: { creator }, fromBlock, toBlock }));
  const out: AnchorRecord[] = [];
  for (const e of events) {
    const index = e.args.index!;
    const snap = await ctx.publicClient.readContract({ address: br.address, abi: br.abi, functionName: "backupAt", args: [creator, index] });
    out.push({ index: Number(index), pieceCid: cidFromBytes(e.args.pieceCid!), sha256: snap.sha256Digest, size: Number(snap.size), anchoredAt: Number(snap.anchoredAt), trigger: Number(snap.trigger) });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The snapshot bytes do not match what the chain anchored. */
export class SnapshotIntegrityError extends StreamVaultError {
  constructor(message: string) {
    super("integrity", message);
    this.name = "SnapshotIntegrityError";
  }
}

export class NoBackupError extends StreamVaultError {
  constructor(message: string) {
    super("not_found", message);
    this.name = "NoBackupError";
  }
}

/** Fetch an anchored snapshot of `creator` (default the wallet; latest, or the one stored under `pieceCid`) and verify it against the chain. */
export async function fetchVerifiedSnapshot(ctx: ChainContext, store: PieceStore, pieceCid?: string, creator: Address = ctx.account.address): Promise<{ anchor: AnchorRecord; snapshot: CatalogSnapshot; bytes: Uint8Array }> {
  const br = ctx.backupRegistry;
  const anchors = await listAnchors(ctx, creator);
  if (anchors.length === 0) throw new NoBackupError(`no backup anchored for ${creator} on chain ${ctx.chainId}: run \`streamvault backup\` first`);
  let anchor: AnchorRecord | undefined;
  if (pieceCid) {
    anchor = [...anchors].reverse().find((a) => a.pieceCid === pieceCid);
    if (!anchor) throw new NoBackupError(`${pieceCid} is not an anchored backup of ${creator} (known: ${anchors.map((a) => a.pieceCid).join(", ")})`);
  } else {
    const [index] = await ctx.publicClient.readContract({ address: br.address, abi: br.abi, functionName: "latest", args: [creator] });
    anchor = anchors.find((a) => a.index === Number(index))!;
  }
  // Re-read the anchor from the contract right before the comparison.
  const onChain = await ctx.publicClient.readContract({ address: br.address, abi: br.abi, functionName: "backupAt", args: [creator, BigInt(anchor.index)] });
  const bytes = await store.get(anchor.pieceCid);
  if (computePieceCid(bytes) !== anchor.pieceCid) throw new SnapshotIntegrityError(`snapshot ${anchor.pieceCid} from ${store.name} does not match its PieceCID`);
  const digest = sha256Hex(bytes);
  if (digest.toLowerCase() !== onChain.sha256Digest.toLowerCase() || bytes.length !== Number(onChain.size)) {
    throw new SnapshotIntegrityError(`snapshot #${anchor.index} (${anchor.pieceCid}) has SHA-256 ${digest} / ${bytes.length} bytes but the chain anchored ${onChain.sha256Digest} / ${onChain.size} bytes: refusing to restore a tampered snapshot`);
  }
  const snapshot = JSON.parse(new TextDecoder().decode(bytes)) as CatalogSnapshot;
  if (snapshot.format !== SNAPSHOT_FORMAT || snapshot.version !== 1) throw new SnapshotIntegrityError(`piece ${anchor.pieceCid} is not a StreamVault catalogue snapshot`);
  if (snapshot.creator.toLowerCase() !== creator.toLowerCase()) throw new SnapshotIntegrityError(`snapshot belongs to ${snapshot.creator}, not ${creator}`);
  return { anchor, snapshot, bytes };
}

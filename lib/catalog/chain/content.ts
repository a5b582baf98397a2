/**
 * Content registration on ContentAccess, idempotent: an item whose content id already carries the
 * same manifest is never registered again; a different manifest is replaced with updateManifest.
 */
import { encodeAbiParameters, keccak256, zeroAddress } from "viem";
import type { Address, Hex } from "viem";
import type { ChainContext } from "./client.ts";
import { sendAndWait } from "./client.ts";
import { cidFromBytes, cidToBytes } from "../../chain/cid.ts";
import { isUnknownContentError } from "../../keyrelease/gate.ts";
import { contractOf } from "../../deployments/index.ts";
import { scanLogs } from "../../chain/logs.ts";

import { TIER, TIER_NAMES, type Rules, type TierName } from "../../deployments/contract-types.ts";

export type Tier = TierName;
export const TIERS: readonly Tier[] = TIER_NAMES;
export const TIER_INDEX: Readonly<Record<Tier, number>> = TIER;

/** ContentAccess.Rules (the generated struct); `price` is per access period in the token's smallest unit (uint96), `duration` seconds (0 = 30 days). */
export type AccessRules = Rules;

export interface Collaborator {
  account: Address;
  shareBps: number;
}

export const DEFAULT_RULES: AccessRules = {
  minCoinBalance: 0n,
  minPasses: 0n,
  inSubscription: true,
  paymentToken: zeroAddress,
  price: 0n,
  duration: 0,
};

const MAX_UINT96 = (1n << 96n) - 1n;

/** externalId of a source file: keccak256 of its SHA-256 (stable across runs and machines). */
export function externalIdOfSha256(sha256Hex: string): Hex {
  const clean = sha256Hex.replace(/^0x/, "");
  if (!/^[0-9a-f]{64}$/.test(clean)) throw new Error(`not a SHA-256 hex digest: ${sha256Hex}`);
  return keccak256(`0x${clean}`);
}

/** contentId = keccak256(abi.encode(creator, externalId)), as ContentAccess.contentIdOf. */
export function contentIdFor(creator: Address, externalId: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [creator, externalId]));
}

export interface OnChainContent {
  contentId: Hex;
  creator: Address;
  tier: Tier;
  manifestCid: string;
  rules: AccessRules;
  collaborators: Collaborator[];
}

/** Read an item from ContentAccess; undefined when not registered. */
export async function readContent(ctx: ChainContext, contentId: Hex): Promise<OnChainContent | undefined> {
  const { address, abi } = ctx.contentAccess;
  try {
    const [creator, tier, manifest, rules, collaborators] = await ctx.publicClient.readContract({ address, abi, functionName: "contentInfo", args: [contentId] });
    return {
      contentId,
      creator,
      tier: TIERS[Number(tier)]!,
      manifestCid: cidFromBytes(manifest),
      rules: {
        minCoinBalance: rules.minCoinBalance,
        minPasses: BigInt(rules.minPasses),
        inSubscription: rules.inSubscription,
        paymentToken: rules.paymentToken,
        price: BigInt(rules.price),
        duration: Number(rules.duration),
      },
      collaborators: collaborators.map((c) => ({ account: c.account, shareBps: Number(c.shareBps) })),
    };
  } catch (err) {
    if (isUnknownContentError(err)) return undefined;
    throw err;
  }
}

export interface RegisterRequest {
  externalId: Hex;
  manifestCid: string;
  tier: Tier;
  rules?: Partial<AccessRules>;
  collaborators?: Collaborator[];
  /** Called as soon as a transaction is sent (journal it before waiting). */
  onSent?: (hash: Hex) => void | Promise<void>;
}

export interface RegisterResult {
  contentId: Hex;
  /** "registered": new; "exists": same manifest already on chain; "updated": manifest replaced. */
  outcome: "registered" | "exists" | "updated";
  txHash?: Hex;
}

export function validateRules(rules: AccessRules): void {
  if (rules.price < 0n || rules.price > MAX_UINT96) throw new Error(`price ${rules.price} is outside uint96`);
  if (rules.duration < 0 || rules.duration > 0xffffffff) throw new Error(`duration ${rules.duration} is outside uint32 seconds`);
}

/** Point a registered item at another manifest (`ContentAccess.updateManifest`, the creator only); resolves with the mined transaction. */
export async function updateManifest(ctx: ChainContext, contentId: Hex, manifestCid: string, onSent?: (hash: Hex) => void | Promise<void>): Promise<Hex> {
  const { address, abi } = ctx.contentAccess;
  const { hash } = await sendAndWait(ctx, () => ctx.walletClient.writeContract({ address, abi, functionName: "updateManifest", args: [contentId, cidToBytes(manifestCid)] }), onSent);
  return hash;
}

/** Register (or confirm) an item; never registers the same content id twice. */
export async function registerContent(ctx: ChainContext, request: RegisterRequest): Promise<RegisterResult> {
  const creator = ctx.account.address;
  const contentId = contentIdFor(creator, request.externalId);
  const existing = await readContent(ctx, contentId);
  const { address, abi } = ctx.contentAccess;
  if (existing) {
    if (existing.manifestCid === request.manifestCid) return { contentId, outcome: "exists" };
    const hash = await updateManifest(ctx, contentId, request.manifestCid, request.onSent);
    return { contentId, outcome: "updated", txHash: hash };
  }
  const rules: AccessRules = { ...DEFAULT_RULES, ...request.rules };
  validateRules(rules);
  const collaborators = request.collaborators ?? [];
  const { hash } = await sendAndWait(
    ctx,
    () =>
      ctx.walletClient.writeContract({
        address,
        abi,
        functionName: "registerContent",
        args: [
          request.externalId,
          cidToBytes(request.manifestCid),
          TIER_INDEX[request.tier],
          { ...rules, duration: rules.duration, minPasses: rules.minPasses },
          collaborators.map((c) => ({ account: c.account, shareBps: c.shareBps })),
        ],
      }),
    request.onSent,
  );
  return { contentId, outcome: "registered", txHash: hash };
}

/**
 * The creator's pay-per-minute price of an item (`PaymentChannels.setStreamPrice`; rate 0 = not
 * offered per minute). Idempotent: reads `streamPrice` first and sends nothing when it is already set.
 * @returns the transaction hash, or undefined when nothing changed.
 */
export async function setStreamPrice(ctx: ChainContext, contentId: Hex, token: Address, ratePerMinute: bigint): Promise<Hex | undefined> {
  if (ratePerMinute < 0n || ratePerMinute > MAX_UINT96) throw new Error(`price per minute ${ratePerMinute} is outside uint96`);
  const { address, abi } = contractOf(ctx.deployment, "PaymentChannels");
  const [currentToken, currentRate] = await ctx.publicClient.readContract({ address, abi, functionName: "streamPrice", args: [contentId] });
  if (currentRate === ratePerMinute && (ratePerMinute === 0n || currentToken.toLowerCase() === token.toLowerCase())) return undefined;
  const { hash } = await sendAndWait(ctx, () => ctx.walletClient.writeContract({ address, abi, functionName: "setStreamPrice", args: [contentId, token, ratePerMinute] }));
  return hash;
}

/** Whether `user` may decrypt `contentId` right now. */
export async function hasValidAccess(ctx: ChainContext, user: Address, contentId: Hex): Promise<boolean> {
  const { address, abi } = ctx.contentAccess;
  return ctx.publicClient.readContract({ address, abi, functionName: "hasValidAccess", args: [user, contentId] });
}

/** Content ids `creator` registered on ContentAccess, oldest first (ContentRegistered logs). */
export async function registeredContentIds(ctx: ChainContext, creator: Address): Promise<Hex[]> {
  const ca = ctx.contentAccess;
  const logs = await scanLogs(ctx.publicClient, BigInt(ca.blockNumber), "latest", (fromBlock, toBlock) => ctx.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", args: { creator }, fromBlock, toBlock }));
  return logs.map((l) => l.args.contentId!);
}

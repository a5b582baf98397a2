/**
 * A wallet's receipts: every AccessPurchased (bought access to one item) and Subscribed (premium
 * subscription) it paid, newest first, each with its transaction. From the indexer's
 * `accessPurchase` and `subscriptionPayment` tables; when the indexer is down or has none, from the
 * chain's events (the same rows; the chain is public, so no sign-in is needed to read them).
 */
import { createPublicClient, getAbiItem, http, type Address, type Hex } from "viem";
import { contentAccessAbi } from "@streamvault/lib/deployments/contracts.ts";
import { scanLogs } from "@streamvault/lib/chain/logs.ts";
import { RPC_URL, contract, deployBlock } from "./config.ts";
import { indexerPages } from "./indexer.ts";

export interface Receipt {
  kind: "purchase" | "subscription";
  /** The item bought (purchases only). */
  contentId?: Hex;
  token: Address;
  /** Amount paid, in the token's base units (decimal string). */
  amount: string;
  /** Access (or the subscription) runs until this time (unix seconds). */
  expiresAt: number;
  /** When it was paid (block time, unix seconds). */
  timestamp: number;
  block: number;
  tx: Hex;
}

type Row = { contentId?: string; token: string; amount: string; expiresAt: string; timestamp: string; block: string; tx: string };

const PURCHASES = `query($buyer: String!, $after: String) { accessPurchases(where: { buyer: $buyer }, orderBy: "block", orderDirection: "desc", limit: 1000, after: $after) { items { contentId token amount expiresAt timestamp block tx } pageInfo { hasNextPage endCursor } } }`;
const SUBSCRIPTIONS = `query($buyer: String!, $after: String) { subscriptionPayments(where: { subscriber: $buyer }, orderBy: "block", orderDirection: "desc", limit: 1000, after: $after) { items { token amount expiresAt timestamp block tx } pageInfo { hasNextPage endCursor } } }`;

function receipt(kind: Receipt["kind"], r: Row): Receipt {
  return {
    kind,
    contentId: r.contentId ? (r.contentId.toLowerCase() as Hex) : undefined,
    token: r.token.toLowerCase() as Address,
    amount: String(r.amount),
    expiresAt: Number(r.expiresAt),
    timestamp: Number(r.timestamp),
    block: Number(r.block),
    tx: r.tx.toLowerCase() as Hex,
  };
}

async function fromIndexer(buyer: Address): Promise<Receipt[]> {
  const [bought, subscribed] = await Promise.all([
    indexerPages<Row>(PURCHASES, "accessPurchases", { buyer }),
    indexerPages<Row>(SUBSCRIPTIONS, "subscriptionPayments", { buyer }),
  ]);
  return [...bought.map((r) => receipt("purchase", r)), ...subscribed.map((r) => receipt("subscription", r))];
}

const purchasedEvent = getAbiItem({ abi: contentAccessAbi, name: "AccessPurchased" });
const subscribedEvent = getAbiItem({ abi: contentAccessAbi, name: "Subscribed" });

async function fromChain(buyer: Address): Promise<Receipt[]> {
  const c = createPublicClient({ transport: http(RPC_URL, { timeout: 8000 }) });
  const access = contract("ContentAccess");
  const from = deployBlock("ContentAccess");
  const [bought, subscribed] = await Promise.all([
    scanLogs(c, from, "latest", (fromBlock, toBlock) => c.getLogs({ address: access.address, event: purchasedEvent, args: { buyer }, fromBlock, toBlock })),
    scanLogs(c, from, "latest", (fromBlock, toBlock) => c.getLogs({ address: access.address, event: subscribedEvent, args: { subscriber: buyer }, fromBlock, toBlock })),
  ]);
  // One block read per block, however many receipts are in it.
  const times = new Map<bigint, Promise<number>>();
  const timeOf = (blockNumber: bigint) => {
    if (!times.has(blockNumber)) times.set(blockNumber, c.getBlock({ blockNumber }).then((b) => Number(b.timestamp)));
    return times.get(blockNumber)!;
  };
  const row = async (log: { blockNumber: bigint; transactionHash: Hex }, a: { contentId?: Hex; token?: Address; amount?: bigint; expiresAt?: bigint }): Promise<Row> => ({
    contentId: a.contentId,
    token: a.token!,
    amount: String(a.amount),
    expiresAt: String(a.expiresAt),
    timestamp: String(await timeOf(log.blockNumber)),
    block: String(log.blockNumber),
    tx: log.transactionHash,
  });
  return [
    ...(await Promise.all(bought.map(async (l) => receipt("purchase", await row(l, l.args))))),
    ...(await Promise.all(subscribed.map(async (l) => receipt("subscription", await row(l, l.args))))),
  ];
}

/** Newest first. `source` says where the rows came from. */
export async function receiptsOf(buyer: Address): Promise<{ receipts: Receipt[]; source: "indexer" | "chain" }> {
  let receipts: Receipt[];
  let source: "indexer" | "chain" = "indexer";
  try {
    receipts = await fromIndexer(buyer.toLowerCase() as Address);
    // An indexer that lags far behind looks empty: ask the chain then.
    if (receipts.length === 0) throw new Error("indexer has no receipts");
  } catch {
    source = "chain";
    receipts = await fromChain(buyer);
  }
  return { receipts: receipts.sort((a, b) => b.block - a.block), source };
}

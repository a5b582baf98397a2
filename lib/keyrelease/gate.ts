/**
 * Access gates: who may receive a content key right now. The embedded chain gate (default, and the
 * only one that works offline) reads ContentAccess.accessOf at the latest block on every request;
 * nothing is cached, so an expiry, a sold pass or a dropped coin balance takes effect at once.
 */
import { isHex, size, slice, toFunctionSelector, type Address, type Hex, type PublicClient } from "viem";
import { contractOf, type Deployment } from "../deployments/index.ts";

export { REASON_NAMES as ACCESS_REASONS } from "../deployments/contract-types.ts";
import { REASON_NAMES as ACCESS_REASONS } from "../deployments/contract-types.ts";
export type AccessReason = (typeof ACCESS_REASONS)[number];

/** uint64 max: access that lasts as long as its condition (coin/pass balance, creatorship, free tier) holds. */
export const NO_EXPIRY = 2n ** 64n - 1n;

export interface AccessDecision {
  granted: boolean;
  /** Why (the first rule that grants, as the chain orders them), or "none"; "lit-condition" from the Lit gate, which does not say why. */
  reason: AccessReason | "lit-condition";
  /** Unix seconds when the access ends; null while its condition holds (no fixed end) or when denied. */
  expiresAt: number | null;
  /** When denied: what the wallet can do, for the 403 body ("no access: buy a pass or subscribe"). */
  denial?: string;
  /** When denied because the content does not exist. */
  unknownContent?: boolean;
}

/** A source of access decisions. The key-release service asks one per request. */
export interface AccessGate {
  readonly name: string;
  check(wallet: Address, contentId: Hex, nowMs: number): Promise<AccessDecision>;
}

/** Reads ContentAccess on chain at the latest block. */
export class ChainAccessGate implements AccessGate {
  readonly name = "chain";
  readonly #client: PublicClient;
  readonly #contract: ReturnType<typeof contractOf<"ContentAccess">>;

  constructor(client: PublicClient, deployment: Deployment) {
    this.#client = client;
    this.#contract = contractOf(deployment, "ContentAccess");
  }

  async check(wallet: Address, contentId: Hex, nowMs: number): Promise<AccessDecision> {
    const { address, abi } = this.#contract;
    const [reasonIndex, expiresAt] = await this.#client.readContract({
      address,
      abi,
      functionName: "accessOf",
      args: [wallet, contentId],
      blockTag: "latest",
    });
    const reason = ACCESS_REASONS[reasonIndex] ?? "none";
    if (reason !== "none") {
      // The chain evaluates expiry against the latest block's timestamp, which can lag when no
      // block was mined for a while: the server's clock gets a veto too.
      if (expiresAt !== NO_EXPIRY && Number(expiresAt) * 1000 <= nowMs) {
        return this.#deny(wallet, contentId);
      }
      return { granted: true, reason, expiresAt: expiresAt === NO_EXPIRY ? null : Number(expiresAt) };
    }
    return this.#deny(wallet, contentId);
  }

  /** Builds a denial that says what would unlock the item (read only on the denial path). */
  async #deny(wallet: Address, contentId: Hex): Promise<AccessDecision> {
    const { address, abi } = this.#contract;
    const client = this.#client;
    let info: readonly [Address, number, Hex, { minCoinBalance: bigint; minPasses: bigint; inSubscription: boolean; price: bigint }, unknown];
    try {
      info = (await client.readContract({ address, abi, functionName: "contentInfo", args: [contentId], blockTag: "latest" })) as never;
    } catch (error) {
      if (isUnknownContentError(error)) {
        return { granted: false, reason: "none", expiresAt: null, unknownContent: true, denial: "unknown content: check the content id" };
      }
      throw error;
    }
    const rules = info[3];
    const [purchasedUntil, subscribedUntil] = await Promise.all([
      client.readContract({ address, abi, functionName: "purchaseExpiry", args: [contentId, wallet], blockTag: "latest" }),
      client.readContract({ address, abi, functionName: "subscriptionExpiry", args: [wallet], blockTag: "latest" }),
    ]);
    const options: string[] = [];
    if (rules.minCoinBalance > 0n) options.push(`hold at least ${rules.minCoinBalance} (base units) of the creator's coin`);
    if (rules.minPasses > 0n) options.push(rules.minPasses === 1n ? "buy a pass" : `hold ${rules.minPasses} passes`);
    if (rules.inSubscription) options.push("subscribe");
    if (rules.price > 0n) options.push("buy access to this item");
    const ways = options.length === 0 ? "this item is not offered to you" : options.join(" or ");
    // The chain (or the server clock) refused, so a recorded purchase or subscription has ended.
    if (purchasedUntil !== 0n) {
      return { granted: false, reason: "none", expiresAt: null, denial: `access expired at ${iso(purchasedUntil)}: ${ways}` };
    }
    if (rules.inSubscription && subscribedUntil !== 0n) {
      return { granted: false, reason: "none", expiresAt: null, denial: `subscription expired at ${iso(subscribedUntil)}: renew it or ${ways}` };
    }
    return { granted: false, reason: "none", expiresAt: null, denial: `no access: ${ways}` };
  }
}

function iso(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString();
}

/** ContentAccess's `error UnknownContent(bytes32 contentId)`: its selector, for revert data not decoded by name. */
const UNKNOWN_CONTENT_SELECTOR = toFunctionSelector("UnknownContent(bytes32)");

/**
 * Whether a contract read failed because ContentAccess reverted with UnknownContent. Decided by the
 * errors' shape (name, decoded revert data, raw revert data), never by `instanceof`: the web app's
 * client comes from web/node_modules/viem, another copy whose error classes are not this module's,
 * and a network failure must stay distinguishable (it is rethrown as "try again", not a 404).
 */
export function isUnknownContentError(error: unknown): boolean {
  const seen = new Set<object>();
  for (let node: unknown = error; isObject(node) && !seen.has(node) && seen.size < 32; node = node.cause) {
    seen.add(node);
    if (isUnknownContentRevert(node)) return true;
    // A viem BaseError of any copy can also find it along its own chain.
    if (typeof node.walk === "function") {
      try {
        if (isObject(node.walk((e: unknown) => isObject(e) && isUnknownContentRevert(e)))) return true;
      } catch {
        // not a viem walk after all
      }
    }
  }
  return false;
}

type ErrorLike = { [key: string]: unknown; cause?: unknown; walk?: (fn: (e: unknown) => boolean) => unknown };

function isObject(value: unknown): value is ErrorLike {
  return typeof value === "object" && value !== null;
}

function isUnknownContentRevert(e: ErrorLike): boolean {
  const data = e.data;
  if (e.name === "ContractFunctionRevertedError" && isObject(data) && data.errorName === "UnknownContent") return true;
  // Undecoded revert data (ContractFunctionRevertedError.raw, RawContractError.data): selector + one bytes32 argument.
  return [e.raw, data].some((hex) => typeof hex === "string" && isHex(hex) && size(hex) === 36 && slice(hex, 0, 4).toLowerCase() === UNKNOWN_CONTENT_SELECTOR);
}

/**
 * Pay-per-minute vouchers: reading a channel from PaymentChannels and checking a voucher the way
 * the contract will when the creator redeems it (EIP-712 signature of the viewer or of a live
 * session key within its spending cap, low-s, 65 bytes), plus the agreed rate, which lives only in
 * the ChannelOpened event.
 */
import { getAddress, hexToBigInt, isAddressEqual, recoverTypedDataAddress, size, slice, zeroAddress, type Address, type Hex, type PublicClient } from "viem";
import { contractOf, type Deployment } from "../deployments/index.ts";
import { voucherTypedData } from "../chain/voucher.ts";

/** One minute of stream = 6 segments of 10 s. */
export const SEGMENTS_PER_MINUTE = 6;
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export const CHANNEL_STATUS = ["none", "open", "closing", "closed"] as const;

export interface ChannelState {
  channelId: bigint;
  viewer: Address;
  deposit: bigint;
  closesAt: number;
  status: (typeof CHANNEL_STATUS)[number];
  redeemed: bigint;
  token: Address;
  contentId: Hex;
  sessionKey: { key: Address; spendingCap: bigint; expiresAt: number } | null;
  ratePerMinute: bigint;
}

export interface Voucher {
  channelId: bigint;
  cumulativeAmount: bigint;
  signature: Hex;
}

export { voucherTypedData };

/** Reads channels (state at the latest block; the rate from its ChannelOpened log, cached: it never changes). */
export class ChannelReader {
  readonly #client: PublicClient;
  readonly #contract: ReturnType<typeof contractOf<"PaymentChannels">>;
  readonly #chainId: number;
  readonly #rates = new Map<string, { rate: bigint; viewer: Address; contentId: Hex }>();

  constructor(client: PublicClient, deployment: Deployment) {
    this.#client = client;
    this.#contract = contractOf(deployment, "PaymentChannels");
    this.#chainId = deployment.chainId;
  }

  get address(): Address {
    return this.#contract.address;
  }

  get chainId(): number {
    return this.#chainId;
  }

  /** The channel, or undefined when it was never opened. */
  async read(channelId: bigint): Promise<ChannelState | undefined> {
    const { address, abi } = this.#contract;
    const [channel, sessionKey] = await Promise.all([
      this.#client.readContract({ address, abi, functionName: "getChannel", args: [channelId], blockTag: "latest" }),
      this.#client.readContract({ address, abi, functionName: "sessionKeyOf", args: [channelId], blockTag: "latest" }),
    ]);
    const status = CHANNEL_STATUS[channel.status] ?? "none";
    if (status === "none") return undefined;
    const opened = await this.#opened(channelId);
    if (opened === undefined || !isAddressEqual(opened.viewer, channel.viewer) || opened.contentId.toLowerCase() !== channel.contentId.toLowerCase()) {
      throw new Error(`channel ${channelId}: ChannelOpened log missing or inconsistent with storage`);
    }
    return {
      channelId,
      viewer: getAddress(channel.viewer),
      deposit: channel.deposit,
      closesAt: Number(channel.closesAt),
      status,
      redeemed: channel.redeemed,
      token: channel.token,
      contentId: channel.contentId,
      sessionKey: sessionKey.key === zeroAddress ? null : { key: getAddress(sessionKey.key), spendingCap: sessionKey.spendingCap, expiresAt: Number(sessionKey.expiresAt) },
      ratePerMinute: opened.rate,
    };
  }

  async #opened(channelId: bigint) {
    const cacheKey = channelId.toString();
    const cached = this.#rates.get(cacheKey);
    if (cached !== undefined) return cached;
    const { address, abi, blockNumber } = this.#contract;
    const logs = await this.#client.getContractEvents({
      address,
      abi,
      eventName: "ChannelOpened",
      args: { channelId },
      fromBlock: BigInt(blockNumber),
      toBlock: "latest",
      strict: true,
    });
    const log = logs[0];
    if (log === undefined) return undefined;
    const entry = { rate: log.args.ratePerMinute, viewer: getAddress(log.args.viewer), contentId: log.args.contentId };
    this.#rates.set(cacheKey, entry);
    return entry;
  }

  /** The address that signed a voucher; throws on a malformed or malleable (high-s) signature, which the contract would reject. */
  async signerOf(voucher: Voucher): Promise<Address> {
    if (size(voucher.signature) !== 65) throw new Error("voucher signature must be 65 bytes (r, s, v)");
    if (hexToBigInt(slice(voucher.signature, 32, 64)) > SECP256K1_HALF_N) throw new Error("voucher signature has a high s value");
    return getAddress(
      await recoverTypedDataAddress({
        ...voucherTypedData(this.#chainId, this.#contract.address, voucher.channelId, voucher.cumulativeAmount),
        signature: voucher.signature,
      }),
    );
  }
}

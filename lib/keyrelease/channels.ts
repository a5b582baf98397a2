/**
 * Pay-per-minute vouchers: reading a channel from PaymentChannels and checking a voucher the way
 * the contract will when the creator redeems it (EIP-712 signature of the viewer or of a live
 * session key within its spending cap, low-s, 65 bytes), plus the agreed rate, which lives only in
 * the ChannelOpened event.
 */
import { concat, getAddress, hashTypedData, hexToBigInt, hexToNumber, isAddressEqual, isHex, numberToHex, size, slice, zeroAddress, type Address, type Hex, type PublicClient } from "viem";
import { recoverSigner } from "../chain/ecrecover.ts";
import { contractOf, type Deployment } from "../deployments/index.ts";
import { voucherTypedData } from "../chain/voucher.ts";
import { StreamVaultError } from "../errors.ts";
import { scanLogs } from "../chain/logs.ts";

/** One minute of stream = 6 segments of 10 s. */
export const SEGMENTS_PER_MINUTE = 6;
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export { STATUS_NAMES as CHANNEL_STATUS } from "../deployments/contract-types.ts";
import { STATUS_NAMES as CHANNEL_STATUS } from "../deployments/contract-types.ts";

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
  #deployment: Promise<string> | undefined;

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

  /**
   * Which deployment the channels belong to: the chain id and the hash of the block PaymentChannels
   * was deployed in. A chain recreated from genesis (`npm run dev -- --fresh`) brings back the same
   * addresses and channel ids, but not that block. Read once per reader (a process restarted with
   * its chain reads it again).
   */
  deploymentId(): Promise<string> {
    this.#deployment ??= this.#client.getBlock({ blockNumber: BigInt(this.#contract.blockNumber) }).then(
      (block) => `${this.#chainId}:${block.hash}`,
      (error: unknown) => {
        this.#deployment = undefined;
        throw error;
      },
    );
    return this.#deployment;
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
    const logs = await scanLogs(this.#client, BigInt(blockNumber), "latest", (fromBlock, toBlock) =>
      this.#client.getContractEvents({ address, abi, eventName: "ChannelOpened", args: { channelId }, fromBlock, toBlock, strict: true }),
    );
    const log = logs[0];
    if (log === undefined) return undefined;
    const entry = { rate: log.args.ratePerMinute, viewer: getAddress(log.args.viewer), contentId: log.args.contentId };
    this.#rates.set(cacheKey, entry);
    return entry;
  }

  /**
   * The address that signed a voucher, and its signature in the one form the contract verifies.
   * Throws {@link VoucherSignatureError} on what `ECDSA.recover` would revert on.
   */
  async signerOf(voucher: Voucher): Promise<{ signer: Address; signature: Hex }> {
    const signature = contractVoucherSignature(voucher.signature);
    const signer = await recoverSigner(hashTypedData(voucherTypedData(this.#chainId, this.#contract.address, voucher.channelId, voucher.cumulativeAmount)), signature);
    return { signer: getAddress(signer), signature };
  }
}

/** A voucher signature the contract would reject; the message says what to send instead. */
export class VoucherSignatureError extends StreamVaultError {
  constructor(message: string) {
    super("forbidden", message);
    this.name = "VoucherSignatureError";
  }
}

/**
 * A voucher signature as PaymentChannels verifies it (OpenZeppelin `ECDSA.recover(hash, bytes)`):
 * 65 bytes r || s || v, s in the lower half order, v 27 or 28 (what the ecrecover precompile takes;
 * any other v recovers nothing and the redemption reverts with ECDSAInvalidSignature). A v of 0/1
 * (the y-parity form some wallets and libraries emit) is the same signature: it is returned as
 * 27/28, so the voucher kept for the creator is one `redeemVoucher` accepts.
 */
export function contractVoucherSignature(signature: Hex): Hex {
  if (!isHex(signature) || size(signature) !== 65) throw new VoucherSignatureError("voucher signature must be 65 bytes (r, s, v) of 0x-hex");
  if (hexToBigInt(slice(signature, 32, 64)) > SECP256K1_HALF_N) throw new VoucherSignatureError("voucher signature has a high s value: sign again with a wallet that produces low-s signatures");
  const v = hexToNumber(slice(signature, 64, 65));
  if (v === 27 || v === 28) return signature.toLowerCase() as Hex;
  if (v === 0 || v === 1) return concat([slice(signature, 0, 64), numberToHex(v + 27, { size: 1 })]).toLowerCase() as Hex;
  throw new VoucherSignatureError(`voucher signature v must be 27 or 28 (or the y-parity 0/1), got ${v}: sign the EIP-712 Voucher again`);
}

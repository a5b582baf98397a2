/**
 * The EIP-712 payment-channel voucher, one definition for the key-release server, the web app's
 * session key, the benchmarks and the tests (browser-safe: no Node imports).
 */
import type { Address } from "viem";

/** Typed data of `Voucher(uint256 channelId,uint256 cumulativeAmount)` under PaymentChannels' domain. */
export function voucherTypedData(chainId: number, verifyingContract: Address, channelId: bigint, cumulativeAmount: bigint) {
  return {
    domain: { name: "StreamVault PaymentChannels", version: "1", chainId, verifyingContract },
    types: { Voucher: [{ name: "channelId", type: "uint256" }, { name: "cumulativeAmount", type: "uint256" }] },
    primaryType: "Voucher",
    message: { channelId, cumulativeAmount },
  } as const;
}

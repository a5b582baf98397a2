/**
 * EIP-2612 permits, signed the same way by the web app, the benchmarks and the tests: one
 * signature instead of an approval transaction.
 */
import { parseSignature, type Account, type Address, type Hex, type WalletClient } from "viem";

/** EIP-712 types of an EIP-2612 permit. */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export interface PermitRequest {
  /** The token's EIP-712 domain: its address, name and version (read them from `eip712Domain()`). */
  token: { address: Address; name: string; version: string };
  chainId: number;
  owner: Address;
  spender: Address;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** Signs a permit with `wallet` and returns it split into the v, r, s that `permit` takes. */
export async function signPermit(
  wallet: Pick<WalletClient, "signTypedData"> & { account?: Account },
  request: PermitRequest,
): Promise<{ v: number; r: Hex; s: Hex }> {
  const signature = await wallet.signTypedData({
    account: wallet.account ?? request.owner,
    domain: { name: request.token.name, version: request.token.version, chainId: request.chainId, verifyingContract: request.token.address },
    types: PERMIT_TYPES,
    primaryType: "Permit",
    message: { owner: request.owner, spender: request.spender, value: request.value, nonce: request.nonce, deadline: request.deadline },
  });
  const { r, s, v, yParity } = parseSignature(signature);
  return { r, s, v: Number(v ?? BigInt(yParity + 27)) };
}

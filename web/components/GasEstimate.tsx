"use client";
/**
 * What a transaction will cost in gas before the wallet signs it: `estimateContractGas` for the
 * connected account times the current gas price, in ETH. A call that would revert says why here.
 */
import { useQuery } from "@tanstack/react-query";
import { useAccount, usePublicClient } from "wagmi";
import { formatEther, formatGwei, type Abi, type Address } from "viem";
import { explainTxError } from "@streamvault/sdk";

export interface ContractCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
}

const keyOf = (call: ContractCall | null) => (call ? JSON.stringify([call.address, call.functionName, call.args], (_k, v) => (typeof v === "bigint" ? v.toString() : v)) : "");

export function GasEstimate({ call, testId }: { call: ContractCall | null; testId: string }) {
  const client = usePublicClient();
  const { address } = useAccount();
  const estimate = useQuery({
    queryKey: ["gas", address, keyOf(call)],
    enabled: Boolean(call && client && address),
    retry: false,
    queryFn: async () => {
      const [gas, price] = await Promise.all([client!.estimateContractGas({ ...call!, account: address! } as Parameters<NonNullable<typeof client>["estimateContractGas"]>[0]), client!.getGasPrice()]);
      return { gas, price, cost: gas * price };
    },
  });
  if (!call) return null;
  if (estimate.isError)
    return (
      <p className="field-error small" data-testid={testId} data-state="error">
        This would fail: {explainTxError(estimate.error)}
      </p>
    );
  if (!estimate.data) return <p className="gas" data-testid={testId} data-state="loading">Estimating gas…</p>;
  const { gas, price, cost } = estimate.data;
  return (
    <p className="gas" data-testid={testId} data-state="ready" data-gas={gas.toString()} data-wei={cost.toString()}>
      Estimated gas: ≈ {Number(formatEther(cost)).toLocaleString("en-US", { maximumSignificantDigits: 3 })} ETH ({gas.toLocaleString("en-US")} gas at {Number(formatGwei(price)).toLocaleString("en-US", { maximumFractionDigits: 3 })} gwei)
    </p>
  );
}

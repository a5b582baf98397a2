"use client";
/** What the connected fan holds of this creator: coins (handed out by the creator) and passes, read from the chain. */
import { useAccount, useReadContracts } from "wagmi";
import type { Address } from "viem";
import { useContracts } from "@/lib/client/config";
import { ZERO_ADDRESS, formatAmount } from "@/lib/client/format";

export function FanHoldings({ coin, pass, coinSymbol, passSymbol }: { coin: Address; pass: Address; coinSymbol: string; passSymbol: string }) {
  const { address } = useAccount();
  const contract = useContracts();
  const reads = useReadContracts({
    contracts: [
      { ...contract("CreatorCoin", coin), functionName: "balanceOf", args: [address ?? ZERO_ADDRESS] },
      { ...contract("CreatorPass", pass), functionName: "balanceOf", args: [address ?? ZERO_ADDRESS] },
    ],
    query: { enabled: Boolean(address), refetchInterval: 10_000 },
  });
  if (!address) return null;
  const coins = reads.data?.[0]?.result;
  const passes = reads.data?.[1]?.result;
  return (
    <p className="status ok small" data-testid="fan-holdings" data-coins={coins?.toString() ?? ""} data-passes={passes?.toString() ?? ""}>
      You hold {coins === undefined ? "…" : formatAmount(coins, "coin").replace(/ .*/, "")} ${coinSymbol} and {passes === undefined ? "…" : passes.toString()} {passSymbol} pass{passes === 1n ? "" : "es"}
    </p>
  );
}

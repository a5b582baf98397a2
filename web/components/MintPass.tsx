"use client";
import { useAccount, useConfig, useReadContracts } from "wagmi";
import { writeContract } from "wagmi/actions";
import type { Address } from "viem";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";
import { ZERO_ADDRESS, formatAmount } from "@/lib/client/format";

export function MintPass({ pass }: { pass: Address }) {
  const wagmi = useConfig();
  const { chainId } = useAppConfig();
  const contract = useContracts();
  const { address } = useAccount();
  const reads = useReadContracts({
    contracts: [
      { ...contract("CreatorPass", pass), functionName: "saleInfo" },
      { ...contract("CreatorPass", pass), functionName: "balanceOf", args: [address ?? ZERO_ADDRESS] },
    ],
  });
  const sale = reads.data?.[0]?.result;
  const held = reads.data?.[1]?.result ?? 0n;
  const tx = useTx(() => void reads.refetch());
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  return (
    <div>
      {sale && (
        <p className="small">
          {sale[1].toString()} of {sale[0].toString()} minted{address ? ` · you hold ${held.toString()}` : ""}
        </p>
      )}
      <button
        className="btn primary"
        disabled={!address || busy || !sale?.[3]}
        data-testid="mint-pass"
        onClick={() =>
          tx.run("Mint a pass", () => writeContract(wagmi, { ...contract("CreatorPass", pass), functionName: "mint", args: [1n], value: sale![2], chainId }))
        }
      >
        {!sale?.[3] ? "Minting closed" : `Mint for ${formatAmount(sale[2], ZERO_ADDRESS)}`}
      </button>
      <TxStatus state={tx.state} />
    </div>
  );
}

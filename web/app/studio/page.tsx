"use client";
import { useAccount, useReadContract } from "wagmi";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { ZERO_ADDRESS } from "@/lib/client/format";
import { LaunchForm } from "@/components/LaunchForm";
import { Studio } from "@/components/Studio";

export default function StudioPage() {
  const { address } = useAccount();
  const { contracts } = useAppConfig();
  const contract = useContracts();
  const coin = useReadContract({
    ...contract("CreatorRegistry"),
    functionName: "coinOf",
    args: [address ?? ZERO_ADDRESS],
    query: { enabled: Boolean(address) },
  });
  return (
    <>
      <h1>Studio</h1>
      {!address ? (
        <p className="panel">Connect your wallet to launch as a creator or manage your releases.</p>
      ) : coin.isLoading ? (
        <p className="muted">Loading…</p>
      ) : !coin.data || coin.data === ZERO_ADDRESS ? (
        <LaunchForm onLaunched={() => void coin.refetch()} />
      ) : (
        <Studio creator={address} coin={coin.data} />
      )}
    </>
  );
}

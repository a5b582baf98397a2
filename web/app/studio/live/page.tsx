"use client";
import Link from "next/link";
import { useAccount, useReadContract } from "wagmi";
import { useContracts } from "@/lib/client/config";
import { ZERO_ADDRESS } from "@/lib/client/format";
import { GoLive } from "@/components/GoLive";

/** `/studio/live`: go live from the browser (camera/microphone), for a launched creator. */
export default function GoLivePage() {
  const { address } = useAccount();
  const contract = useContracts();
  const coin = useReadContract({ ...contract("CreatorRegistry"), functionName: "coinOf", args: [address ?? ZERO_ADDRESS], query: { enabled: Boolean(address) } });
  return (
    <>
      <h1>Studio</h1>
      {!address ? (
        <p className="panel">Connect your wallet to go live.</p>
      ) : coin.isLoading ? (
        <p className="muted">Loading…</p>
      ) : !coin.data || coin.data === ZERO_ADDRESS ? (
        <p className="panel">
          Launch as a creator before you go live: <Link href="/studio">Studio</Link>.
        </p>
      ) : (
        <GoLive creator={address} />
      )}
    </>
  );
}

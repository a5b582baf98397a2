"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { useAccount } from "wagmi";
import type { Address } from "viem";
import { StudioStorage } from "@/components/StudioStorage";

/** Storage of the connected creator (or `?creator=0x...`: the data is public, stored bytes and copies). */
function StoragePage() {
  const { address } = useAccount();
  const param = useSearchParams().get("creator");
  const creator = (param && /^0x[0-9a-fA-F]{40}$/.test(param) ? param : address) as Address | undefined;
  return (
    <>
      <h1>Storage</h1>
      <p className="small"><Link href="/studio">← Studio</Link></p>
      {creator ? <StudioStorage creator={creator} /> : <p className="panel">Connect your wallet to see what your catalogue costs to store.</p>}
    </>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <StoragePage />
    </Suspense>
  );
}

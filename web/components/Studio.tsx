"use client";
import type { Address } from "viem";
import Link from "next/link";

export function Studio({ creator, coin }: { creator: Address; coin: Address }) {
  return (
    <div data-testid="studio">
      <p className="status ok">
        You are a creator. Coin <code>{coin}</code> · <Link href={`/creator/${creator}`}>your public page</Link>
      </p>
    </div>
  );
}

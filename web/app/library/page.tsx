"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useAccount, useReadContracts } from "wagmi";
import type { CatalogItem } from "@/lib/server/catalog";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { REASONS, REASON_LABEL, ZERO_ADDRESS, formatExpiry } from "@/lib/client/format";

export default function Library() {
  const { address } = useAccount();
  const { contracts } = useAppConfig();
  const contract = useContracts();
  const catalog = useQuery({
    queryKey: ["catalog"],
    queryFn: async () => (await (await fetch("/api/catalog")).json()) as { items: CatalogItem[] },
  });
  const items = catalog.data?.items ?? [];
  const access = useReadContracts({
    contracts: items.map((i) => ({
      ...contract("ContentAccess"),
      functionName: "accessOf" as const,
      args: [address ?? ZERO_ADDRESS, i.id] as const,
    })),
    query: { enabled: Boolean(address) && items.length > 0 },
  });
  const sub = useReadContracts({
    contracts: [{ ...contract("ContentAccess"), functionName: "subscriptionExpiry" as const, args: [address ?? ZERO_ADDRESS] as const }],
    query: { enabled: Boolean(address) },
  });
  const subscribedUntil = (sub.data?.[0]?.result as bigint | undefined) ?? 0n;
  const rows = items
    .map((item, k) => {
      const r = access.data?.[k]?.result as readonly [number, bigint] | undefined;
      return { item, reason: r ? REASONS[r[0]] ?? "none" : "none", expiresAt: r?.[1] ?? 0n };
    })
    .filter((r) => r.reason !== "none" && r.reason !== "free");

  return (
    <>
      <h1>My library</h1>
      {address && subscribedUntil * 1000n > BigInt(Date.now()) && (
        <p className="status ok" data-testid="subscription">Premium subscription until {formatExpiry(subscribedUntil)}</p>
      )}
      {!address ? (
        <p className="panel">Connect your wallet to see what you can open.</p>
      ) : catalog.isLoading || access.isLoading ? (
        <p className="muted">Checking your access on chain…</p>
      ) : rows.length === 0 ? (
        <p className="panel" data-testid="library-empty">
          Nothing unlocked yet. <Link href="/">Discover</Link> something to unlock.
        </p>
      ) : (
        <div className="table-wrap">
          <table data-testid="library">
            <caption className="muted small" style={{ textAlign: "left" }}>What you can open now, and until when (read from the chain)</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Why</th>
                <th scope="col">Until</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ item, reason, expiresAt }) => (
                <tr key={item.id}>
                  <td>
                    <Link href={`/content/${item.id}`}>{item.title}</Link>
                    {item.artist && <span className="muted small"> · {item.artist}</span>}
                  </td>
                  <td>{REASON_LABEL[reason]}</td>
                  <td>{formatExpiry(expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="small muted">Free items are open to everyone and are not listed here.</p>
    </>
  );
}

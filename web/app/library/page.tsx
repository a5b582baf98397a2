"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useAccount, useReadContracts } from "wagmi";
import type { CatalogItem } from "@/lib/server/catalog";
import type { Receipt } from "@/lib/server/receipts";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { REASONS, REASON_LABEL, ZERO_ADDRESS, formatAmount, formatExpiry, shortAddress } from "@/lib/client/format";
import { Artwork } from "@/components/ContentCard";
import { PlayButton, TrackList, usePlayer } from "@/components/Player";
import { toTracks } from "@/lib/client/track";

const dateOf = (seconds: number) => new Date(seconds * 1000).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";

/** A transaction hash, linked to the configured block explorer (EXPLORER_URL) when there is one. */
function TxLink({ hash }: { hash: string }) {
  const { explorerUrl } = useAppConfig();
  const text = `${hash.slice(0, 10)}…${hash.slice(-8)}`;
  if (!explorerUrl) return <code className="tx-hash" title={hash} data-testid="receipt-tx" data-tx={hash}>{hash}</code>;
  return (
    <a className="tx-hash" href={`${explorerUrl}/tx/${hash}`} target="_blank" rel="noreferrer" title={hash} data-testid="receipt-tx" data-tx={hash}>
      {text}
    </a>
  );
}

export default function Library() {
  const { address } = useAccount();
  const { contracts } = useAppConfig();
  const contract = useContracts();
  const player = usePlayer();
  const catalog = useQuery({
    queryKey: ["catalog"],
    queryFn: async () => (await (await fetch("/api/catalog")).json()) as { items: CatalogItem[] },
  });
  const receipts = useQuery({
    queryKey: ["receipts", address],
    enabled: Boolean(address),
    queryFn: async () => {
      const res = await fetch(`/api/receipts/${address}`);
      const body = (await res.json()) as { receipts?: Receipt[]; error?: string };
      if (!res.ok) throw new Error(body.error ?? `receipts ${res.status}`);
      return body.receipts ?? [];
    },
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
  // Everything the wallet can open now (free items too), per the chain's accessOf.
  const rows = items
    .map((item, k) => {
      const r = access.data?.[k]?.result as readonly [number, bigint] | undefined;
      return { item, reason: r ? (REASONS[r[0]] ?? "none") : "none", expiresAt: r?.[1] ?? 0n };
    })
    .filter((r) => r.reason !== "none");
  const tracks = rows.flatMap((r) => toTracks(r.item));
  const titleOf = new Map(items.map((i) => [i.id.toLowerCase(), i.title]));
  const lastReceipt = new Map<string, Receipt>();
  for (const r of receipts.data ?? []) if (r.contentId && !lastReceipt.has(r.contentId)) lastReceipt.set(r.contentId, r);

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
          Nothing to open yet. <Link href="/">Discover</Link> something to unlock.
        </p>
      ) : (
        <section aria-labelledby="open-now">
          <div className="toolbar">
            <h2 id="open-now" style={{ margin: 0, marginRight: "auto" }}>What you can open now</h2>
            <button className="btn primary" onClick={() => player.play(tracks[0]!, tracks)} data-testid="play-all">
              ▶ Play all ({tracks.length})
            </button>
          </div>
          <TrackList tracks={tracks}>
            <ul className="lib-list" data-testid="library">
              {rows.map(({ item, reason, expiresAt }) => {
                const bought = lastReceipt.get(item.id.toLowerCase());
                return (
                  <li key={item.id} className="lib-row" data-testid="library-item" data-content={item.id} data-reason={reason}>
                    <PlayButton track={toTracks(item)[0]!} />
                    <Artwork cid={item.artworkCid} title={item.title} />
                    <div className="lib-main">
                      <Link href={`/content/${item.id}`}>{item.title}</Link>
                      <span className="muted small">
                        {item.artist || shortAddress(item.creator)} · <span className={`tag ${item.tierName}`}>{item.tierName}</span>
                        {item.tracks ? ` · Album · ${item.tracks.length} tracks` : ""}
                      </span>
                      {bought && (
                        <span className="small muted">
                          Bought {dateOf(bought.timestamp)} for {formatAmount(bought.amount, bought.token, contracts.MockStablecoin)}
                        </span>
                      )}
                    </div>
                    <div className="lib-when small">
                      <div>{REASON_LABEL[reason]}</div>
                      <div className="muted">{reason === "free" || reason === "creator" ? "always" : `until ${formatExpiry(expiresAt)}`}</div>
                    </div>
                  </li>
                );
              })}
            </ul>
          </TrackList>
        </section>
      )}
      {address && (
        <section aria-labelledby="receipts-h">
          <h2 id="receipts-h">Receipts</h2>
          {receipts.isLoading ? (
            <p className="muted">Reading your payments…</p>
          ) : receipts.error ? (
            <p className="status err" role="alert">{receipts.error.message}</p>
          ) : (receipts.data ?? []).length === 0 ? (
            <p className="muted small" data-testid="receipts-empty">No purchases from this wallet yet.</p>
          ) : (
            <div className="table-wrap">
              <table className="earnings-table" data-testid="receipts">
                <caption className="muted small" style={{ textAlign: "left" }}>Every payment this wallet made for access, newest first (from the chain)</caption>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">What</th>
                    <th scope="col">Amount</th>
                    <th scope="col">Until</th>
                    <th scope="col">Transaction</th>
                  </tr>
                </thead>
                <tbody>
                  {receipts.data!.map((r) => (
                    <tr key={`${r.tx}-${r.kind}-${r.contentId ?? ""}`} data-testid="receipt" data-content={r.contentId ?? ""}>
                      <td data-label="Date">{dateOf(r.timestamp)}</td>
                      <td data-label="What">
                        {r.kind === "subscription" ? "Premium subscription" : <Link href={`/content/${r.contentId}`}>{titleOf.get(r.contentId!) ?? shortAddress(r.contentId!)}</Link>}
                      </td>
                      <td data-label="Amount">{formatAmount(r.amount, r.token, contracts.MockStablecoin)}</td>
                      <td data-label="Until">{formatExpiry(r.expiresAt)}</td>
                      <td data-label="Transaction"><TxLink hash={r.tx} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </>
  );
}

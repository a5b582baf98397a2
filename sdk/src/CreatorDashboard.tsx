"use client";
/**
 * A creator's earnings, sales and plays, kept current by the indexer's live queries (server-sent
 * events on every indexed change, no polling). Plays are not on chain, so not in the indexer: they
 * come from the StreamVault server's play counts (`GET /api/plays?ids=`), re-read on every live
 * update and every `playsRefreshSeconds` (a play without a sale, e.g. a subscriber's, changes no table).
 */
import { useEffect, useMemo, useState } from "react";
import type { Address, Hex } from "viem";
import { useStreamVault } from "./config.tsx";
import { ZERO_ADDRESS, formatAmount, shortAddress } from "./format.ts";
import { createIndexerClient, creatorContentsDocument, earningsQuery, salesQuery, type CreatorContent, type CreatorEarning, type CreatorSale } from "./indexer.ts";

interface PlayTotals {
  items: { contentId: Hex; plays: number }[];
  total: { plays: number };
}

export function CreatorDashboard({ creator, playsRefreshSeconds = 15 }: { creator: Address; playsRefreshSeconds?: number }) {
  const { indexerUrl, apiBase, contracts } = useStreamVault();
  const client = useMemo(() => (indexerUrl ? createIndexerClient(indexerUrl) : undefined), [indexerUrl]);
  const [earnings, setEarnings] = useState<CreatorEarning[] | undefined>();
  const [sales, setSales] = useState<CreatorSale[] | undefined>();
  const [contents, setContents] = useState<CreatorContent[]>([]);
  const [plays, setPlays] = useState<PlayTotals | undefined>();
  const [updates, setUpdates] = useState(0);
  const [error, setError] = useState("");

  useEffect(() => {
    if (!client) return;
    const report = (e: Error) => setError(e.message);
    const stopEarnings = client.live(earningsQuery(creator), (rows) => (setEarnings(rows), setUpdates((n) => n + 1)), report);
    const stopSales = client.live(salesQuery(creator), (rows) => (setSales(rows), setUpdates((n) => n + 1)), report);
    client.graphql(creatorContentsDocument, { creator: creator.toLowerCase() }).then((d) => setContents(d.contents.items), report);
    return () => {
      stopEarnings();
      stopSales();
    };
  }, [client, creator]);

  // Plays are counted by the StreamVault server: read them again when a live update arrives.
  useEffect(() => {
    if (contents.length === 0) return;
    const ids = contents.map((c) => c.id).join(",");
    const read = () =>
      fetch(`${apiBase}/api/plays?ids=${ids}`, { credentials: "include" })
        .then((r) => (r.ok ? (r.json() as Promise<PlayTotals>) : Promise.reject(new Error(`plays: HTTP ${r.status}`))))
        .then(setPlays, (e: Error) => setError(e.message));
    void read();
    const timer = setInterval(read, Math.max(1, playsRefreshSeconds) * 1000);
    return () => clearInterval(timer);
  }, [apiBase, contents, updates, playsRefreshSeconds]);

  if (!client) return <p className="status err" role="alert">CreatorDashboard needs `indexerUrl` in the StreamVault config.</p>;
  const stable = contracts.MockStablecoin;
  const native = earnings?.find((e) => e.token === ZERO_ADDRESS);
  return (
    <div className="dashboard" data-testid="creator-dashboard" data-updates={updates}>
      <p data-testid="dashboard-earnings" data-creator-share={native?.creatorShare ?? "0"}>
        Earned:{" "}
        {earnings === undefined
          ? "…"
          : earnings.length === 0
            ? "nothing yet"
            : earnings.map((e) => formatAmount(e.creatorShare, e.token, stable)).join(" + ")}
        {earnings && earnings.length > 0 && (
          <span className="muted small"> · to withdraw {earnings.map((e) => formatAmount(BigInt(e.contentAccessBalance) + BigInt(e.paymentChannelsBalance), e.token, stable)).join(" + ")}</span>
        )}
      </p>
      <p data-testid="dashboard-plays" data-plays={plays?.total.plays ?? 0}>
        Plays: {plays ? plays.total.plays : "…"} across {contents.length} release{contents.length === 1 ? "" : "s"}
      </p>
      <table data-testid="dashboard-sales">
        <thead>
          <tr>
            <th>Latest sales</th>
            <th>Fan</th>
            <th>Paid</th>
          </tr>
        </thead>
        <tbody>
          {(sales ?? []).map((s) => (
            <tr key={`${s.contentId}-${s.buyer}-${s.timestamp}`}>
              <td>
                <code>{shortAddress(s.contentId)}</code>
              </td>
              <td>{shortAddress(s.buyer)}</td>
              <td>{formatAmount(s.amount, s.token, stable)}</td>
            </tr>
          ))}
          {sales?.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No sales yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {error && <p className="status err small" role="alert">{error}</p>}
    </div>
  );
}

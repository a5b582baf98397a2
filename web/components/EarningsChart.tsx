"use client";
/**
 * The studio's earnings: what the platform fee is, totals per currency that end in the balance to
 * withdraw, and per day and per release a table of gross, platform fee, collaborators' shares and
 * net, each row with a bar split the same way (one day reads as well as many), plus CSV downloads
 * of both tables. Amounts are exact (every wei shown), so the columns visibly add up.
 */
import { formatUnits } from "viem";
import { tokenDecimals, tokenSymbol } from "@/lib/client/format";
// Types only (erased): the JSON the studio route sends is exactly what the server module builds.
import type { EarningsBreakdown, EarningsLine } from "@/lib/server/earnings";

export type { EarningsBreakdown, EarningsLine };

const COLORS = { net: "#3ecf8e", collaborators: "#f5b14c", platformFee: "#7c5cff" } as const;

function exact(amount: string, token: string, stable?: string): string {
  return `${formatUnits(BigInt(amount), tokenDecimals(token, stable))} ${tokenSymbol(token, stable)}`;
}

/** A horizontal bar of one row's gross, scaled to the largest gross of its table, split into net, collaborators and fee. */
function SplitBar({ line, max }: { line: EarningsLine; max: bigint }) {
  const gross = BigInt(line.gross);
  const part = (v: string) => (max === 0n ? 0 : Number((BigInt(v) * 10_000n) / max) / 100);
  return (
    <div className="split-bar" aria-hidden="true" style={{ display: "flex", height: 14, minWidth: 80, background: "#ffffff10", borderRadius: 3, overflow: "hidden" }}>
      {gross > 0n &&
        (["net", "collaborators", "platformFee"] as const).map((k) => (
          <div key={k} data-part={k} style={{ width: `${part(line[k])}%`, background: COLORS[k] }} />
        ))}
    </div>
  );
}

function Table({ caption, first, rows, stable, testId }: { caption: string; first: string; rows: (EarningsLine & { label: string; key: string })[]; stable?: string; testId: string }) {
  const tokens = [...new Set(rows.map((r) => r.token))];
  return (
    <>
      {tokens.map((token) => {
        const mine = rows.filter((r) => r.token === token);
        const max = mine.reduce((m, r) => (BigInt(r.gross) > m ? BigInt(r.gross) : m), 0n);
        return (
          <table key={token} data-testid={testId} data-token={token} className="earnings-table" style={{ width: "100%" }}>
            <caption className="small muted" style={{ textAlign: "left" }}>
              {caption} · {tokenSymbol(token, stable)}
            </caption>
            <thead>
              <tr>
                <th scope="col">{first}</th>
                <th scope="col">Payments</th>
                <th scope="col">Gross</th>
                <th scope="col">Platform fee</th>
                <th scope="col">Collaborators</th>
                <th scope="col">Net to you</th>
                <th scope="col" className="split-cell" style={{ width: "22%" }}>Split</th>
              </tr>
            </thead>
            <tbody>
              {mine.map((r) => (
                <tr key={r.key} data-testid={`${testId}-row`} data-gross={r.gross} data-fee={r.platformFee} data-collaborators={r.collaborators} data-net={r.net}>
                  <th scope="row" style={{ fontWeight: "normal" }}>{r.label}</th>
                  <td data-label="Payments">{r.payments}</td>
                  <td data-label="Gross">{exact(r.gross, token, stable)}</td>
                  <td data-label="Platform fee">−{exact(r.platformFee, token, stable)}</td>
                  <td data-label="Collaborators">−{exact(r.collaborators, token, stable)}</td>
                  <td data-label="Net to you"><b>{exact(r.net, token, stable)}</b></td>
                  <td className="split-cell"><SplitBar line={r} max={max} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      })}
    </>
  );
}

export function EarningsChart({ earnings, creator, stable }: { earnings: EarningsBreakdown; creator: string; stable?: string }) {
  const csv = (by: "day" | "release") => `/api/studio/${creator}/earnings?by=${by}`;
  return (
    <section data-testid="earnings" aria-labelledby="earnings-h">
      <h3 id="earnings-h">Earnings</h3>
      <p className="small" data-testid="earnings-fee-line" data-fee-bps={earnings.platformFeeBps ?? ""}>{earnings.explanation}</p>
      {earnings.totals.length === 0 ? (
        <p className="muted small">No earnings yet.</p>
      ) : (
        <>
          <div className="stats earnings-totals">
            {earnings.totals.map((t) => (
              <div className="stat" key={t.token} data-testid="earnings-total" data-token={t.token} data-gross={t.gross} data-fee={t.platformFee} data-collaborators={t.collaborators} data-net={t.net} data-withdrawn={t.withdrawn} data-withdrawable={t.withdrawable}>
                <span className="muted small">{tokenSymbol(t.token, stable)} · {t.payments} payment{t.payments === 1 ? "" : "s"}</span>
                <dl className="earnings-sum">
                  <dt>Gross</dt>
                  <dd>{exact(t.gross, t.token, stable)}</dd>
                  <dt>− Platform fee{earnings.platformFeeBps === null ? "" : ` (${Number((earnings.platformFeeBps / 100).toFixed(2))}%)`}</dt>
                  <dd>{exact(t.platformFee, t.token, stable)}</dd>
                  <dt>− Collaborators</dt>
                  <dd>{exact(t.collaborators, t.token, stable)}</dd>
                  <dt className="sum">= Net to you</dt>
                  <dd className="sum">{exact(t.net, t.token, stable)}</dd>
                  <dt>− Withdrawn</dt>
                  <dd>{exact(t.withdrawn, t.token, stable)}</dd>
                </dl>
                <b data-testid="earnings-withdrawable">{exact(t.withdrawable, t.token, stable)} to withdraw</b>
              </div>
            ))}
          </div>
          <p className="small muted" aria-hidden="true">
            <span style={{ color: COLORS.net }}>■</span> net to you <span style={{ color: COLORS.collaborators }}>■</span> collaborators{" "}
            <span style={{ color: COLORS.platformFee }}>■</span> platform fee
          </p>
          <Table caption="Per day (UTC)" first="Day" testId="earnings-day" stable={stable} rows={earnings.byDay.map((r) => ({ ...r, label: r.day, key: `${r.day}-${r.token}` }))} />
          <Table caption="Per release" first="Release" testId="earnings-release" stable={stable} rows={earnings.byRelease.map((r) => ({ ...r, label: r.title, key: `${r.contentId}-${r.token}` }))} />
          <p className="small">
            Download CSV:{" "}
            <a href={csv("day")} download data-testid="earnings-csv-day">per day</a> ·{" "}
            <a href={csv("release")} download data-testid="earnings-csv-release">per release</a>
          </p>
        </>
      )}
    </section>
  );
}

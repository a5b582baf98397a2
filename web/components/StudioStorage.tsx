"use client";

import { useQuery } from "@tanstack/react-query";
import { useConfig } from "wagmi";
import { useAppConfig } from "@/lib/client/config";
import { studioFetch } from "@/lib/client/studio-fetch";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Address } from "viem";
import type { StorageReport as Report } from "@streamvault/lib/storage/placement/report.ts";
import type { BackendStatus } from "@streamvault/lib/storage/stats.ts";

/** A latency in ms, or a dash before the first read. */
function msLabel(ms: number | null): string {
  return ms === null ? "–" : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/**
 * `GET /api/studio/[address]/storage`: lib/storage/placement's `StorageReport`, with each backend's
 * health from the stats wrapper (`storageStatus()`) beside its catalogue pieces and bytes.
 */
type StorageReport = Omit<Report, "backendStats"> & {
  backendStats: (Report["backendStats"][number] & Pick<BackendStatus, "reads" | "failures" | "repairs" | "breaker" | "readLatencyMs">)[];
  statsUpdatedAt: string | null;
  playsCounted: boolean;
};

function bytesLabel(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** USDFC with enough digits for tiny amounts (a few MiB cost micro-USDFC per month). */
export function usdfc(n: number): string {
  if (n === 0) return "0";
  const abs = Math.abs(n);
  const digits = abs >= 1 ? 2 : Math.min(10, 2 - Math.floor(Math.log10(abs)));
  return `${n < 0 ? "−" : ""}${abs.toFixed(digits)}`;
}

const copiesLabel = (min: number, max: number) => (min === max ? String(min) : `${min}–${max}`);

export function StudioStorage({ creator }: { creator: Address }) {
  const wagmi = useConfig();
  const { chainId } = useAppConfig();
  const report = useQuery({
    queryKey: ["studio-storage", creator],
    retry: false,
    queryFn: async () => {
      const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/storage`);
      if (!res.ok) throw new Error(`storage report: ${res.status}`);
      return (await res.json()) as StorageReport;
    },
    refetchInterval: 30_000,
  });
  if (report.isError) return <p className="status err">Could not load the storage report: {String(report.error.message)}</p>;
  const r = report.data;
  if (!r) return <p className="muted">Loading…</p>;
  const history = r.history.map((m) => ({ month: m.month, Storage: Number(m.storage.toPrecision(4)), "CDN egress": Number(m.egress.toPrecision(4)) }));
  return (
    <div data-testid="studio-storage">
      <div className="stats">
        <div className="stat">
          <span className="muted small">Stored (one copy)</span>
          <b>{bytesLabel(r.totals.bytes)}</b>
        </div>
        <div className="stat">
          <span className="muted small">Stored (all copies)</span>
          <b data-testid="stored-bytes">{bytesLabel(r.totals.storedBytes)}</b>
        </div>
        <div className="stat">
          <span className="muted small">Cost / month (USDFC)</span>
          <b data-testid="real-cost">{usdfc(r.totals.total)}</b>
        </div>
        <div className="stat">
          <span className="muted small">Suggestions save / month</span>
          <b data-testid="suggested-saving">{usdfc(r.suggestedSaving)}</b>
        </div>
      </div>
      <p className="small muted">
        Backends: {r.backends.join(", ")} · plays over the last {r.windowDays} days{r.playsCounted ? "" : " (play counts unavailable: every item counts as unplayed)"} · storage 2.50 USDFC per TiB per copy per month, CDN egress per TiB served.
      </p>

      <h2>Backends</h2>
      <div className="table-wrap">
        <table data-testid="backend-stats">
          <thead>
            <tr>
              <th scope="col">Backend</th><th scope="col">Pieces</th><th scope="col">Bytes</th><th scope="col">Reads</th>
              <th scope="col">Failures</th><th scope="col">Repairs</th><th scope="col">Read p50</th><th scope="col">Read p99</th><th scope="col">Circuit</th>
            </tr>
          </thead>
          <tbody>
            {r.backendStats.map((b) => (
              <tr key={b.backend} data-backend={b.backend}>
                <td>{b.backend}</td><td>{b.pieces}</td><td>{bytesLabel(b.bytes)}</td><td>{b.reads}</td>
                <td data-testid="failures">{b.failures}</td><td>{b.repairs}</td>
                <td data-testid="latency-p50">{msLabel(b.readLatencyMs.p50)}</td><td>{msLabel(b.readLatencyMs.p99)}</td>
                <td>{b.breaker}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="small muted">Reads, failures, repairs and latency: counters of every process using this piece directory{r.statsUpdatedAt ? `, updated ${new Date(r.statsUpdatedAt).toLocaleString()}` : ", none recorded yet"}.</p>

      <h2>Cost per item</h2>
      <div className="table-wrap">
        <table data-testid="storage-items">
          <thead>
            <tr>
              <th scope="col">Item</th><th scope="col">Tier</th><th scope="col">Plays</th><th scope="col">Heat</th><th scope="col">Size</th>
              <th scope="col">Copies</th><th scope="col">CDN</th><th scope="col">Per month</th><th scope="col">Policy</th>
            </tr>
          </thead>
          <tbody>
            {r.items.map((i) => (
              <tr key={i.itemId} data-item={i.itemId}>
                <td>{i.title ?? i.itemId.slice(0, 10)}</td>
                <td><span className="tag">{i.tier}</span></td>
                <td>{i.playsInWindow}</td>
                <td>{i.heat}</td>
                <td>{bytesLabel(i.bytes)}</td>
                <td data-testid="copies">{copiesLabel(i.minCopies, i.maxCopies)}{i.minCopies !== i.wantCopies || i.maxCopies !== i.wantCopies ? <span className="muted"> → {i.wantCopies}</span> : null}</td>
                <td>{i.cdn ? "on" : "off"}{i.cdn !== i.wantCdn ? <span className="muted"> → {i.wantCdn ? "on" : "off"}</span> : null}</td>
                <td>{usdfc(i.total)}</td>
                <td className="small muted">{i.reason}{i.shortfall ? ` (${i.shortfall})` : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>Cost over the last 12 months</h2>
      <div style={{ width: "100%", height: 240 }} role="img" aria-label="Storage and CDN cost per month over the last 12 months, in USDFC" data-testid="cost-history">
        <ResponsiveContainer>
          <BarChart data={history}>
            <CartesianGrid strokeDasharray="3 3" stroke="#2c2c40" />
            <XAxis dataKey="month" stroke="#a3a3b8" fontSize={12} />
            <YAxis stroke="#a3a3b8" fontSize={12} width={90} tickFormatter={(v: number) => (v === 0 ? "0" : v < 0.01 ? v.toExponential(1) : v.toFixed(2))} />
            <Tooltip cursor={{ fill: "#ffffff12" }} contentStyle={{ background: "#191926", border: "1px solid #3a3a55" }} formatter={(v) => `${usdfc(Number(v))} USDFC`} />
            <Legend />
            <Bar dataKey="Storage" stackId="c" fill="#7c5cff" isAnimationActive={false} />
            <Bar dataKey="CDN egress" stackId="c" fill="#3ecf8e" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>

      <h2>Suggestions</h2>
      {r.suggestions.length === 0 ? (
        <p className="muted" data-testid="no-suggestions">Placement is as the policy wants: nothing to do.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table data-testid="suggestions">
              <thead>
                <tr><th scope="col">Item</th><th scope="col">Move</th><th scope="col">Backend</th><th scope="col">Pieces</th><th scope="col">From → to</th><th scope="col">Saving / month</th><th scope="col">Why</th></tr>
              </thead>
              <tbody>
                {r.suggestions.map((s) => (
                  <tr key={`${s.itemId}-${s.kind}-${s.backend}`}>
                    <td>{s.title ?? s.itemId.slice(0, 10)}</td>
                    <td>{s.kind}</td>
                    <td>{s.backend}</td>
                    <td>{s.pieces || "—"}</td>
                    <td>{s.from} → {s.to}</td>
                    <td>{usdfc(s.monthlySaving)}</td>
                    <td className="small muted">{s.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="small muted">Apply with <code>streamvault optimize --apply</code> (the milestone watcher, <code>streamvault watch</code>, applies them too).</p>
        </>
      )}

      <h2>Recent moves</h2>
      {r.recentMoves.length === 0 ? (
        <p className="muted small">No moves journaled yet.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="recent-moves">
            <thead>
              <tr><th scope="col">When</th><th scope="col">Item</th><th scope="col">Move</th><th scope="col">Pieces</th><th scope="col">From → to</th><th scope="col">Saving / month</th><th scope="col">By</th></tr>
            </thead>
            <tbody>
              {r.recentMoves.map((m, n) => (
                <tr key={n}>
                  <td>{m.at.slice(0, 16).replace("T", " ")}</td>
                  <td>{m.title ?? m.itemId.slice(0, 10)}</td>
                  <td>{m.kind}{m.backend ? ` ${m.backend}` : ""}</td>
                  <td>{m.pieces || "—"}</td>
                  <td>{m.from} → {m.to}</td>
                  <td>{usdfc(m.monthlySaving)}</td>
                  <td>{m.by}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

"use client";
import { useQuery } from "@tanstack/react-query";
import { useConfig } from "wagmi";
import { writeContract } from "wagmi/actions";
import type { Address, Hex } from "viem";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";
import { formatAmount, shortAddress } from "@/lib/client/format";
import { studioFetch } from "@/lib/client/studio-fetch";

export interface StreamRow {
  id: string;
  viewer: Address;
  contentId: Hex;
  token: Address;
  status: "open" | "closing";
  deposit: string;
  redeemed: string;
  ratePerMinute: string;
  closesAt: number;
  minutesDelivered: number;
  voucher: null | { cumulativeAmount: string; signature: Hex; receivedAt: string };
  redeemable: string;
}

/**
 * Open and closing channels of `creator` with their latest vouchers (chain + key-release database),
 * every 5 s. Needs the creator's session: the first read signs in (studioFetch); a refused signature
 * stops the polling and shows why.
 */
export function useStreams(creator: Address) {
  const wagmi = useConfig();
  const { chainId } = useAppConfig();
  return useQuery({
    queryKey: ["streams", creator],
    queryFn: async () => {
      const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/streams`);
      const body = (await res.json().catch(() => ({}))) as { streams: StreamRow[]; message?: string; error?: string };
      if (!res.ok) throw new Error(body.message ?? body.error ?? `streams unavailable (${res.status})`);
      return body;
    },
    retry: false,
    refetchInterval: (query) => (query.state.status === "error" ? false : 5_000),
  });
}

/**
 * Pay-per-minute channels of this creator with the latest voucher the server received: redeem it
 * (`redeemVoucher`, the channel stays open) or close with it (`closeChannel`: the final voucher is
 * redeemed and the rest of the deposit goes back to the fan).
 */
export function StudioStreams({ creator, titles, onPaid }: { creator: Address; titles: Map<string, string>; onPaid: () => void }) {
  const wagmi = useConfig();
  const { contracts: c, chainId } = useAppConfig();
  const contract = useContracts();
  const stable = c.MockStablecoin;
  const streams = useStreams(creator);
  const tx = useTx(() => {
    void streams.refetch();
    onPaid();
  });
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  const rows = streams.data?.streams ?? [];
  return (
    <section aria-labelledby="streams-h" data-testid="streams">
      <h2 id="streams-h">Pay-per-minute streams</h2>
      {streams.isLoading ? (
        <p className="muted small">Loading…</p>
      ) : streams.isError ? (
        <p className="status err" data-testid="streams-error">
          {streams.error.message}{" "}
          <button className="btn" onClick={() => void streams.refetch()}>
            Sign in and retry
          </button>
        </p>
      ) : rows.length === 0 ? (
        <p className="muted small">No open channels: fans who stream pay per minute show up here with their latest voucher.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Fan</th>
                <th scope="col">Minutes</th>
                <th scope="col">Latest voucher</th>
                <th scope="col">Redeemed</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => {
                const redeemable = BigInt(s.redeemable);
                const voucher = s.voucher;
                return (
                  <tr key={s.id} data-testid="stream-row" data-channel={s.id}>
                    <td>
                      #{s.id} · {titles.get(s.contentId.toLowerCase()) ?? shortAddress(s.contentId)}
                      {s.status === "closing" && <span className="small muted"> (fan asked to close)</span>}
                    </td>
                    <td>{shortAddress(s.viewer)}</td>
                    <td>{s.minutesDelivered} × {formatAmount(s.ratePerMinute, s.token, stable)}</td>
                    <td data-testid="stream-voucher">{voucher ? formatAmount(voucher.cumulativeAmount, s.token, stable) : "none yet"}</td>
                    <td data-testid="stream-redeemed">{formatAmount(s.redeemed, s.token, stable)} of {formatAmount(s.deposit, s.token, stable)}</td>
                    <td>
                      <span style={{ display: "flex", gap: 6, flexWrap: "wrap" }}>
                        <button className="btn" data-testid="stream-redeem" disabled={busy || !voucher || redeemable === 0n}
                          onClick={() => voucher && void tx.run(`Redeem channel #${s.id}`, () =>
                            writeContract(wagmi, { ...contract("PaymentChannels"), functionName: "redeemVoucher", args: [BigInt(s.id), BigInt(voucher.cumulativeAmount), voucher.signature], chainId }))}>
                          Redeem {redeemable > 0n ? formatAmount(redeemable, s.token, stable) : ""}
                        </button>
                        <button className="btn" data-testid="stream-close-final" disabled={busy}
                          onClick={() => void tx.run(`Close channel #${s.id}`, () =>
                            writeContract(wagmi, {
                              ...contract("PaymentChannels"),
                              functionName: "closeChannel",
                              args: [BigInt(s.id), BigInt(voucher?.cumulativeAmount ?? s.redeemed), voucher?.signature ?? "0x"],
                              chainId,
                            }))}>
                          Close with final voucher
                        </button>
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <TxStatus state={tx.state} />
    </section>
  );
}

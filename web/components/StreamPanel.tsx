"use client";
import { useEffect, useRef, useState } from "react";
import { useAccount, useConfig, useReadContract, useSignMessage } from "wagmi";
import { readContract, writeContract, waitForTransactionReceipt } from "wagmi/actions";
import { erc20Abi, parseEventLogs, type Address, type Hex } from "viem";
import { paymentChannelsAbi } from "@streamvault/lib/browser";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";
import { newSessionKey, signVoucher, streamMinute, type SessionKey } from "@/lib/client/stream";
import type { MinuteKeyFetcher } from "@/lib/client/segment-keys";
import { signIn, KeyRequestError } from "@/lib/client/keys";
import { ZERO_ADDRESS, formatAmount } from "@/lib/client/format";

/** Minutes the deposit covers; the unused part comes back on close. */
const MINUTES = 10n;

interface Channel {
  id: bigint;
  sessionKey: SessionKey;
  deposit: bigint;
  rate: bigint;
  token: Address;
}

/** A live pay-per-minute session the player draws minute keys from. */
export interface StreamSession {
  channelId: bigint;
  /** Pays for minute window `minute` (a session-key voucher) and returns its keys for `variants`. */
  fetchMinute: MinuteKeyFetcher;
}

/**
 * Pay per minute: open a channel once; the player then asks for each minute window's keys as it
 * reaches it, and a browser session key signs the voucher for that minute (no wallet prompts).
 * Live meter of minutes paid and spend; close. The rate and token are the creator's stream price
 * (`PaymentChannels.streamPrice`, read from the chain); items the creator does not offer per
 * minute show no panel.
 */
export function StreamPanel({ contentId, onStream }: { contentId: Hex; onStream: (session: StreamSession | null) => void }) {
  const wagmi = useConfig();
  const { address } = useAccount();
  const { contracts: c, chainId } = useAppConfig();
  const contract = useContracts();
  const { signMessageAsync } = useSignMessage();
  const [channel, setChannel] = useState<Channel | null>(null);
  const [minutes, setMinutes] = useState(0);
  const [spent, setSpent] = useState(0n);
  const [streaming, setStreaming] = useState(false);
  const [error, setError] = useState("");
  const tx = useTx();
  const paid = useRef(0n);
  const price = useReadContract({ ...contract("PaymentChannels"), functionName: "streamPrice", args: [contentId], chainId });
  const [token, rate] = price.data ?? [ZERO_ADDRESS, 0n];
  const stable = c.MockStablecoin;

  /**
   * Pays for minute `minute` and gets its keys: the voucher covers minutes 0..minute (the server
   * needs 0..minute-1; this pays the minute asked for too), or what was already paid when the
   * player asks again for an earlier minute (seeking back, another quality): no new spend.
   */
  async function payMinute(ch: Channel, minute: number, variants: string[]): Promise<Map<string, CryptoKey>> {
    const owed = ch.rate * BigInt(minute + 1);
    const cumulative = owed > paid.current ? owed : paid.current;
    if (cumulative > ch.deposit) {
      setError("The channel deposit is used up: close it and open a new one.");
      stop();
      throw new Error("channel deposit used up");
    }
    const signature = await signVoucher({ sessionKey: ch.sessionKey, chainId, contract: c.PaymentChannels, channelId: ch.id, cumulativeAmount: cumulative });
    try {
      const m = await streamMinute({ contentId, wallet: address as Address, channelId: ch.id, cumulativeAmount: cumulative, signature, minute, variants });
      if (cumulative > paid.current) paid.current = cumulative;
      setSpent(paid.current);
      setMinutes(Number(paid.current / ch.rate));
      return m.keys;
    } catch (e) {
      setError(e instanceof KeyRequestError ? `${e.message} (${e.status})` : String(e));
      throw e;
    }
  }

  async function open() {
    setError("");
    const sessionKey = newSessionKey();
    // Read the price again right before opening: the channel opens at the creator's current price.
    const [priceToken, priceRate] = (await price.refetch()).data ?? [token, rate];
    if (priceRate === 0n) return setError("The creator no longer offers this item per minute.");
    const deposit = priceRate * MINUTES;
    const native = priceToken.toLowerCase() === ZERO_ADDRESS;
    if (!native) {
      // ERC-20 deposits are pulled with transferFrom: approve the deposit first when needed.
      const allowance = await readContract(wagmi, { address: priceToken, abi: erc20Abi, functionName: "allowance", args: [address as Address, c.PaymentChannels], chainId });
      if (allowance < deposit) {
        const approved = await tx.run("Approve the deposit", () =>
          writeContract(wagmi, { address: priceToken, abi: erc20Abi, functionName: "approve", args: [c.PaymentChannels, deposit], chainId }),
        );
        if (!approved) return;
      }
    }
    let channelId: bigint | undefined;
    const ok = await tx.run("Open a pay-per-minute channel", async () => {
      const hash = await writeContract(wagmi, {
        ...contract("PaymentChannels"),
        functionName: "openChannel",
        args: [
          {
            contentId,
            token: priceToken,
            deposit,
            ratePerMinute: priceRate,
            expiresAt: BigInt(Math.floor(Date.now() / 1000) + 7 * 86400),
            sessionKey: { key: sessionKey.address, spendingCap: deposit, expiresAt: BigInt(Math.floor(Date.now() / 1000) + 86400) },
          },
        ],
        value: native ? deposit : 0n,
        chainId,
      });
      const receipt = await waitForTransactionReceipt(wagmi, { hash, chainId });
      const [opened] = parseEventLogs({ abi: paymentChannelsAbi, logs: receipt.logs, eventName: "ChannelOpened" });
      channelId = opened?.args.channelId;
      return hash;
    });
    if (!ok || channelId === undefined) return;
    const ch = { id: channelId, sessionKey, deposit, rate: priceRate, token: priceToken };
    setChannel(ch);
    await start(ch);
  }

  async function start(ch: Channel) {
    setError("");
    try {
      if (sessionStorage.getItem(`sv-session:${address!.toLowerCase()}`) === null) {
        await signIn(address as Address, chainId, (message) => signMessageAsync({ message }));
        sessionStorage.setItem(`sv-session:${address!.toLowerCase()}`, String(Date.now()));
      }
    } catch (e) {
      setError(`Sign-in failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    setStreaming(true);
    onStream({ channelId: ch.id, fetchMinute: (minute, variants) => payMinute(ch, minute, variants) });
  }

  function stop() {
    setStreaming(false);
    onStream(null);
  }

  async function close() {
    stop();
    if (!channel) return;
    await tx.run("Close the channel", () =>
      writeContract(wagmi, { ...contract("PaymentChannels"), functionName: "requestClose", args: [channel.id], chainId }),
    );
    setChannel(null);
  }

  useEffect(() => () => stop(), []); // eslint-disable-line react-hooks/exhaustive-deps

  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  // Not offered per minute (or the price is still loading): no panel, unless a channel is open.
  if (!channel && rate === 0n) return null;
  return (
    <div className="option" data-testid="option-stream">
      <h3>Pay per minute</h3>
      <span className="small">
        <span data-testid="stream-price">{formatAmount(rate, token, stable)} per minute</span> · deposit {formatAmount(rate * MINUTES, token, stable)}, unused part returned on close
      </span>
      {channel && (
        <p className="small" aria-live="polite" data-testid="stream-meter">
          Channel #{channel.id.toString()} · {minutes} minute{minutes === 1 ? "" : "s"} · spent {formatAmount(spent, channel.token, stable)} of {formatAmount(channel.deposit, channel.token, stable)}
          {streaming ? " · streaming (each minute's key paid by a session-key voucher, no prompts)" : ""}
        </p>
      )}
      {!channel ? (
        <button className="btn" onClick={open} disabled={busy || !address} data-testid="stream-open">
          Open channel and stream
        </button>
      ) : (
        <span style={{ display: "flex", gap: 8, flexWrap: "wrap" }}>
          {!streaming && (
            <button className="btn" onClick={() => void start(channel)} disabled={busy}>
              Resume
            </button>
          )}
          <button className="btn" onClick={close} disabled={busy} data-testid="stream-close">
            Stop and close
          </button>
        </span>
      )}
      {error && <p className="status err" role="alert">{error}</p>}
      <TxStatus state={tx.state} />
    </div>
  );
}

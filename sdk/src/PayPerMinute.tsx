"use client";
import { useEffect, useRef, useState } from "react";
import { useAccount, useConfig, useReadContract, useSignMessage } from "wagmi";
import { readContract, writeContract, waitForTransactionReceipt } from "wagmi/actions";
import { erc20Abi, parseEventLogs, type Address, type Hex } from "viem";
import { paymentChannelsAbi } from "@streamvault/lib/browser";
import { useContracts, useStreamVault } from "./config.tsx";
import { useTx } from "./useTx.ts";
import { TxStatus } from "./TxStatus.tsx";
import { newSessionKey, signVoucher, streamMinute, type SessionKey } from "./stream.ts";
import type { MinuteKeyFetcher } from "./segment-keys.ts";
import { ensureSignedIn, KeyRequestError } from "./keys.ts";
import { ZERO_ADDRESS, formatAmount } from "./format.ts";

/** Minutes the deposit covers; the unused part comes back on close. */
const MINUTES = 10n;

interface Channel {
  id: bigint;
  sessionKey: SessionKey;
  /** Escrowed so far (open + top-ups); the session key's spending cap follows it. */
  deposit: bigint;
  rate: bigint;
  token: Address;
  /** Minute windows whose keys this channel received (each paid once). */
  received: Set<number>;
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
 * minute show no panel. "Top up" adds another deposit of the same size and raises the session
 * key's spending cap to the new total (two transactions), so a long session keeps streaming.
 */
export function PayPerMinute({ contentId, onStream }: { contentId: Hex; onStream: (session: StreamSession | null) => void }) {
  const wagmi = useConfig();
  const { address } = useAccount();
  const { contracts: c, chainId, apiBase } = useStreamVault();
  const contract = useContracts();
  const { signMessageAsync } = useSignMessage();
  const [channel, setChannel] = useState<Channel | null>(null);
  const [minutes, setMinutes] = useState(0);
  const [spent, setSpent] = useState(0n);
  const [streaming, setStreaming] = useState(false);
  const [error, setError] = useState("");
  const tx = useTx();
  const paid = useRef(0n);
  /** The live deposit (top-ups raise it while the player holds this session's fetcher). */
  const deposit = useRef(0n);
  const price = useReadContract({ ...contract("PaymentChannels"), functionName: "streamPrice", args: [contentId], chainId });
  const [token, rate] = price.data ?? [ZERO_ADDRESS, 0n];
  const stable = c.MockStablecoin;

  /**
   * Pays for minute `minute` and gets its keys. The channel pays for the minutes received on it,
   * wherever they are in the item (joining live at minute 30 or seeking a VOD costs 1 x rate for
   * the first minute received): a new minute raises the voucher by one rate, a minute received
   * before (seeking back, another quality) is asked for again with what was already paid.
   */
  async function payMinute(ch: Channel, minute: number, variants: string[]): Promise<Map<string, CryptoKey>> {
    const received = ch.received.has(minute) ? ch.received.size : ch.received.size + 1;
    const owed = ch.rate * BigInt(received);
    const cumulative = owed > paid.current ? owed : paid.current;
    if (cumulative > deposit.current) {
      setError("The channel deposit is used up: top it up, or close it and open a new one.");
      stop();
      throw new Error("channel deposit used up");
    }
    const signature = await signVoucher({ sessionKey: ch.sessionKey, chainId, contract: c.PaymentChannels, channelId: ch.id, cumulativeAmount: cumulative });
    try {
      const m = await streamMinute({ contentId, wallet: address as Address, channelId: ch.id, cumulativeAmount: cumulative, signature, minute, variants, apiBase });
      ch.received.add(minute);
      if (cumulative > paid.current) paid.current = cumulative;
      setSpent(paid.current);
      setMinutes(ch.received.size);
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
    const firstDeposit = priceRate * MINUTES;
    const native = priceToken.toLowerCase() === ZERO_ADDRESS;
    if (!native) {
      // ERC-20 deposits are pulled with transferFrom: approve the deposit first when needed.
      const allowance = await readContract(wagmi, { address: priceToken, abi: erc20Abi, functionName: "allowance", args: [address as Address, c.PaymentChannels], chainId });
      if (allowance < firstDeposit) {
        const approved = await tx.run("Approve the deposit", () =>
          writeContract(wagmi, { address: priceToken, abi: erc20Abi, functionName: "approve", args: [c.PaymentChannels, firstDeposit], chainId }),
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
            deposit: firstDeposit,
            ratePerMinute: priceRate,
            expiresAt: BigInt(Math.floor(Date.now() / 1000) + 7 * 86400),
            sessionKey: { key: sessionKey.address, spendingCap: firstDeposit, expiresAt: BigInt(Math.floor(Date.now() / 1000) + 86400) },
          },
        ],
        value: native ? firstDeposit : 0n,
        chainId,
      });
      const receipt = await waitForTransactionReceipt(wagmi, { hash, chainId });
      const [opened] = parseEventLogs({ abi: paymentChannelsAbi, logs: receipt.logs, eventName: "ChannelOpened" });
      channelId = opened?.args.channelId;
      return hash;
    });
    if (!ok || channelId === undefined) return;
    const ch: Channel = { id: channelId, sessionKey, deposit: firstDeposit, rate: priceRate, token: priceToken, received: new Set() };
    deposit.current = ch.deposit;
    setChannel(ch);
    await start(ch);
  }

  async function start(ch: Channel) {
    setError("");
    try {
      await ensureSignedIn(address as Address, chainId, (message) => signMessageAsync({ message }), apiBase);
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

  /** Adds another deposit of the first one's size, then raises the session key's cap to the new total. */
  async function topUp() {
    if (!channel) return;
    setError("");
    const amount = channel.rate * MINUTES;
    const total = deposit.current + amount;
    const native = channel.token.toLowerCase() === ZERO_ADDRESS;
    if (!native) {
      const allowance = await readContract(wagmi, { address: channel.token, abi: erc20Abi, functionName: "allowance", args: [address as Address, c.PaymentChannels], chainId });
      if (allowance < amount) {
        const approved = await tx.run("Approve the top-up", () =>
          writeContract(wagmi, { address: channel.token, abi: erc20Abi, functionName: "approve", args: [c.PaymentChannels, amount], chainId }),
        );
        if (!approved) return;
      }
    }
    const added = await tx.run("Top up the channel", () =>
      writeContract(wagmi, { ...contract("PaymentChannels"), functionName: "topUp", args: [channel.id, amount, 0n], value: native ? amount : 0n, chainId }),
    );
    if (!added) return;
    deposit.current = total;
    const updated = { ...channel, deposit: total };
    setChannel(updated);
    await tx.run("Raise the session key's cap", () =>
      writeContract(wagmi, {
        ...contract("PaymentChannels"),
        functionName: "authorizeSessionKey",
        args: [channel.id, { key: channel.sessionKey.address, spendingCap: total, expiresAt: BigInt(Math.floor(Date.now() / 1000) + 86400) }],
        chainId,
      }),
    );
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
          <button className="btn" onClick={() => void topUp()} disabled={busy} data-testid="stream-topup">
            Top up {formatAmount(rate * MINUTES, channel.token, stable)}
          </button>
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

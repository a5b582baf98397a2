"use client";
import { useCallback } from "react";
import { useAccount, useReadContracts, useConfig } from "wagmi";
import { useConnectModal } from "@rainbow-me/rainbowkit";
import { writeContract, readContract, signTypedData } from "wagmi/actions";
import { parseSignature, type Address } from "viem";
import { PERMIT_TYPES } from "@streamvault/lib/browser";
import { useAppConfig, useContracts } from "@/lib/client/config";
import type { CatalogItem } from "@/lib/server/catalog";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";
import type { PlayingState } from "./Player";
import { NO_EXPIRY, REASONS, REASON_LABEL, ZERO_ADDRESS, periodLabel, formatAmount, formatExpiry } from "@/lib/client/format";

/** The catalog fields the unlock options need (type only: the server module is not bundled). */
export type UnlockItem = Pick<CatalogItem, "id" | "creator" | "tier" | "price" | "paymentToken" | "minCoinBalance" | "minPasses" | "inSubscription" | "accessDuration">;

export interface CreatorTokens {
  coin: Address;
  pass: Address;
  coinSymbol: string;
  passSymbol: string;
}

export interface AccessInfo {
  reason: string;
  expiresAt: bigint;
  loading: boolean;
  refetch: () => void;
}

/** Reads the viewer's access and holdings for one item (the chain is the authority). */
export function useAccess(item: UnlockItem, tokens?: CreatorTokens) {
  const { address } = useAccount();
  const { contracts: c } = useAppConfig();
  const contract = useContracts();
  const viewer = address ?? ZERO_ADDRESS;
  const stable = c.MockStablecoin;
  const reads = useReadContracts({
    allowFailure: true,
    contracts: [
      { ...contract("ContentAccess"), functionName: "accessOf", args: [viewer, item.id] },
      { ...contract("ContentAccess"), functionName: "subscriptionPrice", args: [ZERO_ADDRESS] },
      { ...contract("ContentAccess"), functionName: "subscriptionPrice", args: [stable ?? ZERO_ADDRESS] },
      { ...contract("ContentAccess"), functionName: "subscriptionExpiry", args: [viewer] },
      { ...contract("ContentAccess"), functionName: "purchaseExpiry", args: [item.id, viewer] },
      { ...contract("CreatorCoin", tokens?.coin ?? ZERO_ADDRESS), functionName: "balanceOf", args: [viewer] },
      { ...contract("CreatorPass", tokens?.pass ?? ZERO_ADDRESS), functionName: "balanceOf", args: [viewer] },
      { ...contract("CreatorPass", tokens?.pass ?? ZERO_ADDRESS), functionName: "saleInfo" },
      { ...contract("ContentAccess"), functionName: "purchaseTerms", args: [item.id] },
    ],
    query: { enabled: true },
  });
  const r = reads.data;
  const access = r?.[0]?.result as readonly [number, bigint] | undefined;
  return {
    connected: Boolean(address),
    loading: reads.isLoading,
    refetch: reads.refetch,
    reason: address && access ? (REASONS[access[0]] ?? "none") : "none",
    expiresAt: address && access ? access[1] : 0n,
    subNative: (r?.[1]?.result as bigint | undefined) ?? 0n,
    subStable: stable ? ((r?.[2]?.result as bigint | undefined) ?? 0n) : 0n,
    subExpiry: (r?.[3]?.result as bigint | undefined) ?? 0n,
    purchaseExpiry: (r?.[4]?.result as bigint | undefined) ?? 0n,
    coinBalance: (r?.[5]?.result as bigint | undefined) ?? 0n,
    passBalance: (r?.[6]?.result as bigint | undefined) ?? 0n,
    sale: r?.[7]?.result as readonly [bigint, bigint, bigint, boolean] | undefined,
    /** The terms a purchase names (token, price, duration, version): a rule change meanwhile fails the purchase. */
    terms: r?.[8]?.result as readonly [Address, bigint, bigint, number] | undefined,
  };
}

export type AccessState = ReturnType<typeof useAccess>;

/**
 * The access line for a viewer without access, from what the player actually plays: the preview,
 * the full track on a pay-per-minute channel, or a full variant the creator gives away.
 */
export function noAccessStatus(playing: PlayingState | undefined): string {
  if (playing?.kind === "full" && playing.perMinute) return "Streaming pay per minute: the full track plays while your channel pays for each minute.";
  if (playing?.kind === "full" && !playing.encrypted) return `No pass yet: the full ${playing.variant}-quality track plays free (the creator gives it away); unlock for every quality.`;
  if (playing?.freeFull) return `You do not have access yet: the 30-second preview plays, and the creator gives the ${playing.freeFull}-quality track away.`;
  return "You do not have access yet: the 30-second preview plays.";
}

/** " · until <date>", " · while you hold it" (pass, coin), nothing for the creator or free items. */
function expiryNote(reason: string, expiresAt: bigint): string {
  if (expiresAt >= NO_EXPIRY) return reason === "creator" || reason === "free" ? "" : " · while you hold it";
  return ` · until ${formatExpiry(expiresAt)}`;
}

export function UnlockPanel({ item, tokens, access, extra, playing }: { item: UnlockItem; tokens?: CreatorTokens; access: AccessState; extra?: React.ReactNode; playing?: PlayingState }) {
  const wagmi = useConfig();
  const { address } = useAccount();
  const { openConnectModal } = useConnectModal();
  const { contracts: c, chainId } = useAppConfig();
  const contract = useContracts();
  const stable = c.MockStablecoin;
  const refetch = useCallback(() => void access.refetch(), [access]);
  const tx = useTx(refetch);
  // Live terms from the chain when read; the server-rendered rules until then.
  const price = access.terms ? access.terms[1] : BigInt(item.price);
  const paymentToken = access.terms ? (access.terms[0].toLowerCase() as Address) : item.paymentToken;
  const duration = access.terms ? Number(access.terms[2]) : item.accessDuration;
  const nativePrice = paymentToken === ZERO_ADDRESS;

  const buy = () =>
    tx.run(`Buy a ${periodLabel(item.accessDuration)} pass`, async () => {
      // The buyer names the terms version: if the creator changed price, token or duration since,
      // the purchase fails instead of buying different terms.
      const [, , , termsVersion] = await readContract(wagmi, {
        ...contract("ContentAccess"),
        functionName: "purchaseTerms",
        args: [item.id],
      });
      if (nativePrice) {
        return writeContract(wagmi, {
          ...contract("ContentAccess"),
          functionName: "purchaseAccess",
          args: [item.id, termsVersion],
          value: price,
          chainId,
        });
      }
      // ERC-20 with an EIP-2612 permit: one signature, one transaction, no separate approval.
      const token = paymentToken;
      const [domain, nonce] = await Promise.all([
        readContract(wagmi, { ...contract("MockStablecoin", token), functionName: "eip712Domain" }),
        readContract(wagmi, { ...contract("MockStablecoin", token), functionName: "nonces", args: [address!] }),
      ]);
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
      const signature = await signTypedData(wagmi, {
        domain: { name: domain[1], version: domain[2], chainId: Number(domain[3]), verifyingContract: domain[4] },
        types: PERMIT_TYPES,
        primaryType: "Permit",
        message: { owner: address!, spender: c.ContentAccess, value: price, nonce, deadline },
      });
      const { v, r, s, yParity } = parseSignature(signature);
      return writeContract(wagmi, {
        ...contract("ContentAccess"),
        functionName: "purchaseAccessWithPermit",
        args: [item.id, termsVersion, deadline, Number(v ?? BigInt(yParity + 27)), r, s],
        chainId,
      });
    });

  const subscribe = (token: Address, amount: bigint) =>
    tx.run("Subscribe for 30 days", async () => {
      if (token === ZERO_ADDRESS) {
        return writeContract(wagmi, { ...contract("ContentAccess"), functionName: "subscribe", args: [token, 1, amount], value: amount, chainId });
      }
      const allowance = await readContract(wagmi, { ...contract("MockStablecoin", token), functionName: "allowance", args: [address!, c.ContentAccess] });
      if (allowance < amount) {
        const { waitForTransactionReceipt } = await import("wagmi/actions");
        const h = await writeContract(wagmi, { ...contract("MockStablecoin", token), functionName: "approve", args: [c.ContentAccess, amount], chainId });
        await waitForTransactionReceipt(wagmi, { hash: h, chainId });
      }
      return writeContract(wagmi, { ...contract("ContentAccess"), functionName: "subscribe", args: [token, 1, amount], chainId });
    });

  const mintPass = () =>
    tx.run("Mint a pass", async () => {
      const mintPrice = access.sale?.[2] ?? 0n;
      return writeContract(wagmi, { ...contract("CreatorPass", tokens!.pass), functionName: "mint", args: [1n], value: mintPrice, chainId });
    });

  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  const minCoins = BigInt(item.minCoinBalance);
  const minPasses = BigInt(item.minPasses);
  const has = access.reason !== "none";

  return (
    <section className="panel" aria-labelledby="unlock-h" data-testid="unlock-panel">
      <h2 id="unlock-h" style={{ marginTop: 0 }}>
        {item.tier === 0 ? "Free for everyone" : "Ways to unlock"}
      </h2>
      <p data-testid="access-status" data-reason={access.reason} data-playing={playing ? `${playing.kind}:${playing.variant}` : ""} className={`status ${has || (access.connected && playing?.kind === "full") ? "ok" : ""}`}>
        {!access.connected
          ? `Connect a wallet to see your access and holdings.${playing?.freeFull ? ` The creator gives the ${playing.freeFull}-quality track away: it plays in full without one.` : ""}`
          : has
            ? `You have access: ${REASON_LABEL[access.reason]}${expiryNote(access.reason, access.expiresAt)}${playing?.kind === "preview" && playing.blocked ? " · but the full track cannot play here: see the player" : ""}`
            : noAccessStatus(playing)}
      </p>
      {!access.connected && openConnectModal && (
        <p>
          <button className="btn primary" onClick={openConnectModal} data-testid="unlock-connect">
            Connect wallet to unlock
          </button>
        </p>
      )}
      {item.tier > 0 && (
        <div className="options">
          {price > 0n && (
            <div className="option" data-testid="option-purchase">
              <h3>{periodLabel(duration)} pass</h3>
              <span>
                <b data-testid="price">{formatAmount(price, paymentToken, stable)}</b>
                {!nativePrice && <span className="muted small"> · paid with a permit signature</span>}
              </span>
              {access.purchaseExpiry > 0n && <span className="small muted">Your pass: until {formatExpiry(access.purchaseExpiry)}</span>}
              <button className="btn primary" onClick={buy} disabled={busy || !address} data-testid="buy-pass">
                {access.purchaseExpiry * 1000n > BigInt(Date.now()) ? "Extend" : "Buy"} for {formatAmount(price, paymentToken, stable)}
              </button>
            </div>
          )}
          {item.inSubscription && (
            <div className="option" data-testid="option-subscription">
              <h3>Premium subscription</h3>
              <span className="small">Unlocks every item in the subscription for 30 days.</span>
              {access.subExpiry > 0n && <span className="small muted">Subscribed until {formatExpiry(access.subExpiry)}</span>}
              {access.subNative > 0n && (
                <button className="btn" onClick={() => subscribe(ZERO_ADDRESS, access.subNative)} disabled={busy || !address}>
                  Subscribe · {formatAmount(access.subNative, ZERO_ADDRESS)} / 30 days
                </button>
              )}
              {stable && access.subStable > 0n && (
                <button className="btn" onClick={() => subscribe(stable, access.subStable)} disabled={busy || !address}>
                  Subscribe · {formatAmount(access.subStable, stable, stable)} / 30 days
                </button>
              )}
              {access.subNative === 0n && access.subStable === 0n && <span className="muted small">Subscriptions are not on sale right now.</span>}
            </div>
          )}
          {minPasses > 0n && (
            <div className="option" data-testid="option-pass">
              <h3>Hold {minPasses.toString()} creator pass{minPasses > 1n ? "es" : ""}</h3>
              <span className="small">
                You hold {access.passBalance.toString()} {tokens?.passSymbol ?? "pass"}
              </span>
              {access.sale && (
                <span className="small muted">
                  {access.sale[1].toString()} / {access.sale[0].toString()} minted · {formatAmount(access.sale[2], ZERO_ADDRESS)} each
                </span>
              )}
              <button className="btn" onClick={mintPass} disabled={busy || !address || !tokens || !access.sale?.[3]} data-testid="mint-pass">
                {access.sale?.[3] === false ? "Minting closed" : "Mint a pass"}
              </button>
            </div>
          )}
          {minCoins > 0n && (
            <div className="option" data-testid="option-coin">
              <h3>Hold {formatAmount(minCoins, "coin").replace(/ .*/, "")} ${tokens?.coinSymbol ?? "coin"}</h3>
              <span className="small">
                You hold {formatAmount(access.coinBalance, "coin").replace(/ .*/, "")} ${tokens?.coinSymbol ?? "coin"}
              </span>
              <span className="muted small">Creators hand out coins to their fans.</span>
            </div>
          )}
          {extra}
          {price === 0n && !item.inSubscription && minPasses === 0n && minCoins === 0n && (
            <p className="muted">The creator has not opened this item to fans yet.</p>
          )}
        </div>
      )}
      <TxStatus state={tx.state} />
    </section>
  );
}

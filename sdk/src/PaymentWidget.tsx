"use client";
import { useCallback, type ReactNode } from "react";
import { useAccount, useReadContract, useReadContracts, useConfig } from "wagmi";
import { writeContract, readContract, signTypedData } from "wagmi/actions";
import { erc20Abi, parseSignature, type Address, type Hex } from "viem";
import { PERMIT_TYPES } from "@streamvault/lib/browser";
import { useContracts, useStreamVault } from "./config.tsx";
import { useTx, type TxState } from "./useTx.ts";
import { TxStatus } from "./TxStatus.tsx";
import { PayPerMinute, type StreamSession } from "./PayPerMinute.tsx";
import type { PlayingState } from "./StreamPlayer.tsx";
import { NO_EXPIRY, REASONS, REASON_LABEL, ZERO_ADDRESS, periodLabel, formatAmount, formatExpiry } from "./format.ts";

/** An item's access rules as the unlock options need them (the web app's catalogue items have these fields). */
export interface UnlockItem {
  id: Hex;
  creator: Address;
  /** 0 free, 1 premium, 2 exclusive (ContentAccess.Tier). */
  tier: number;
  /** Decimal string in the payment token's units. */
  price: string;
  paymentToken: Address;
  minCoinBalance: string;
  minPasses: string;
  inSubscription: boolean;
  /** Seconds a purchase lasts. */
  accessDuration: number;
}

/** Default access period of a purchase (ContentAccess.DEFAULT_ACCESS_DURATION) when the rules say 0. */
const DEFAULT_ACCESS_DURATION = 30 * 86400;

/**
 * An item's rules and its creator's coin and pass, read from the chain (ContentAccess.contentInfo,
 * CreatorRegistry.creatorTokens): what a host site needs when it knows only the content id.
 */
export function useContentItem(contentId: Hex): { item?: UnlockItem; tokens?: CreatorTokens; error?: string } {
  const { contracts: c, chainId } = useStreamVault();
  const contract = useContracts();
  const info = useReadContract({ ...contract("ContentAccess"), functionName: "contentInfo", args: [contentId], chainId });
  const creator = info.data?.[0];
  const pair = useReadContract({ ...contract("CreatorRegistry"), functionName: "creatorTokens", args: [creator ?? ZERO_ADDRESS], chainId, query: { enabled: Boolean(creator) } });
  const [coin, pass] = pair.data ?? [undefined, undefined];
  const symbols = useReadContracts({
    allowFailure: true,
    contracts: [
      { address: coin ?? ZERO_ADDRESS, abi: erc20Abi, functionName: "symbol", chainId },
      { address: pass ?? ZERO_ADDRESS, abi: erc20Abi, functionName: "symbol", chainId },
    ],
    query: { enabled: Boolean(coin && pass) },
  });
  if (info.error) return { error: `No StreamVault item ${contentId} on chain ${chainId}: check the content id and the deployment.` };
  if (!info.data) return {};
  const [owner, tier, , rules] = info.data;
  const item: UnlockItem = {
    id: contentId,
    creator: owner.toLowerCase() as Address,
    tier: Number(tier),
    price: rules.price.toString(),
    paymentToken: rules.paymentToken.toLowerCase() as Address,
    minCoinBalance: rules.minCoinBalance.toString(),
    minPasses: rules.minPasses.toString(),
    inSubscription: rules.inSubscription,
    accessDuration: Number(rules.duration) || DEFAULT_ACCESS_DURATION,
  };
  const tokens =
    coin && pass && coin !== ZERO_ADDRESS
      ? { coin, pass, coinSymbol: (symbols.data?.[0]?.result as string | undefined) ?? "coin", passSymbol: (symbols.data?.[1]?.result as string | undefined) ?? "pass" }
      : undefined;
  return { item, tokens };
}

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
  const { contracts: c } = useStreamVault();
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

/**
 * Buying an item's access pass: the live terms (price, token, duration) and `buy`, which names the
 * terms version so a rule change meanwhile fails the purchase instead of buying different terms.
 */
export function usePurchase(item: UnlockItem, access: AccessState, tx: { run: (label: string, send: () => Promise<Hex>) => Promise<boolean> }) {
  const wagmi = useConfig();
  const { address } = useAccount();
  const { contracts: c, chainId } = useStreamVault();
  const contract = useContracts();
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

  return { price, paymentToken, duration, nativePrice, buy };
}

/**
 * Every way to unlock one item, with the viewer's holdings and expiry: buy (native, or stablecoin
 * with an EIP-2612 permit), subscribe, mint a pass, hold coins; `extra` goes with the options (the
 * pay-per-minute option). `onConnect` opens the host's wallet picker; `playing` (the player's
 * onPlaying) makes the access line say what actually plays.
 */
export function UnlockPanel({ item, tokens, access, extra, onConnect, playing }: { item: UnlockItem; tokens?: CreatorTokens; access: AccessState; extra?: ReactNode; onConnect?: () => void; playing?: PlayingState }) {
  const wagmi = useConfig();
  const { address } = useAccount();
  const openConnectModal = onConnect;
  const { contracts: c, chainId } = useStreamVault();
  const contract = useContracts();
  const stable = c.MockStablecoin;
  const refetch = useCallback(() => void access.refetch(), [access]);
  const tx = useTx(refetch);
  const { price, paymentToken, duration, nativePrice, buy } = usePurchase(item, access, tx);
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

/**
 * The payment widget for one item, from its content id alone: every way to unlock it (buy,
 * subscribe, pass) and, when the creator offers it, pay per minute with a session key (open, top up,
 * close). Hand `onStream` to `<StreamPlayer stream>` so the player plays the paid minutes.
 */
export function PaymentWidget({
  contentId,
  item: knownItem,
  tokens: knownTokens,
  onConnect,
  onStream,
}: {
  contentId: Hex;
  item?: UnlockItem;
  tokens?: CreatorTokens;
  onConnect?: () => void;
  onStream?: (session: StreamSession | null) => void;
}) {
  const read = useContentItem(contentId);
  const item = knownItem ?? read.item;
  const tokens = knownTokens ?? read.tokens;
  if (read.error && !knownItem) return <p className="status err" role="alert" data-testid="widget-error">{read.error}</p>;
  if (!item) return <p className="status pending" role="status">Loading the item's terms…</p>;
  return <LoadedPaymentWidget item={item} tokens={tokens} onConnect={onConnect} onStream={onStream} />;
}

function LoadedPaymentWidget({ item, tokens, onConnect, onStream }: { item: UnlockItem; tokens?: CreatorTokens; onConnect?: () => void; onStream?: (session: StreamSession | null) => void }) {
  const access = useAccess(item, tokens);
  const hasAccess = access.reason !== "none";
  return (
    <UnlockPanel
      item={item}
      tokens={tokens}
      access={access}
      onConnect={onConnect}
      extra={onStream && item.tier > 0 && access.connected && !hasAccess ? <PayPerMinute contentId={item.id} onStream={onStream} /> : null}
    />
  );
}

/**
 * One button that buys the item's access pass at its live terms (native, or stablecoin with a
 * permit), or says the viewer already has access. For a full choice of options use `<PaymentWidget>`.
 */
export function UnlockButton({ contentId, onUnlocked }: { contentId: Hex; onUnlocked?: () => void }) {
  const read = useContentItem(contentId);
  if (read.error) return <p className="status err" role="alert" data-testid="widget-error">{read.error}</p>;
  if (!read.item) return <button className="btn primary" disabled>Loading…</button>;
  return <LoadedUnlockButton item={read.item} tokens={read.tokens} onUnlocked={onUnlocked} />;
}

function LoadedUnlockButton({ item, tokens, onUnlocked }: { item: UnlockItem; tokens?: CreatorTokens; onUnlocked?: () => void }) {
  const { address } = useAccount();
  const { contracts: c } = useStreamVault();
  const access = useAccess(item, tokens);
  const confirmed = useCallback(() => {
    void access.refetch();
    onUnlocked?.();
  }, [access, onUnlocked]);
  const tx = useTx(confirmed);
  const { price, paymentToken, buy } = usePurchase(item, access, tx);
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  if (access.reason !== "none") {
    return (
      <p className="status ok" data-testid="unlock-state" data-reason={access.reason}>
        Unlocked: {REASON_LABEL[access.reason]} · until {formatExpiry(access.expiresAt)}
      </p>
    );
  }
  return (
    <span data-testid="unlock-button-wrap">
      {price > 0n ? (
        <button className="btn primary" onClick={buy} disabled={busy || !address} data-testid="unlock-button">
          {address ? `Unlock for ${formatAmount(price, paymentToken, c.MockStablecoin)}` : "Connect a wallet to unlock"}
        </button>
      ) : (
        <span className="muted small">Not for sale.</span>
      )}
      <TxStatus state={tx.state as TxState} />
    </span>
  );
}

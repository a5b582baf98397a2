"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useState } from "react";
import { ConnectButton } from "@rainbow-me/rainbowkit";
import { useAccount, useSwitchChain } from "wagmi";
import { useAppConfig } from "@/lib/client/config";

const LINKS = [
  { href: "/", label: "Discover" },
  { href: "/library", label: "Library" },
  { href: "/studio", label: "Studio" },
];

export function Nav() {
  const path = usePathname();
  return (
    <header className="nav">
      <a href="#main" className="skip">Skip to content</a>
      <Link href="/" className="brand" aria-label="StreamVault home">
        <span aria-hidden>▶</span> StreamVault
      </Link>
      <nav aria-label="Main">
        <ul>
          {LINKS.map((l) => {
            const active = l.href === "/" ? path === "/" : path.startsWith(l.href);
            return (
              <li key={l.href}>
                <Link href={l.href} aria-current={active ? "page" : undefined}>
                  {l.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="wallet" data-testid="wallet">
        <ConnectButton accountStatus={{ smallScreen: "avatar", largeScreen: "address" }} chainStatus="none" showBalance={false} />
      </div>
    </header>
  );
}

/** Banner shown while the wallet is on another chain. */
export function WrongNetwork() {
  const { chainId: expected } = useAppConfig();
  const { isConnected, chainId } = useAccount();
  const { switchChain, isPending, error } = useSwitchChain();
  if (!isConnected || chainId === expected) return null;
  return (
    <div className="banner warn" role="alert" data-testid="wrong-network">
      <span>
        Your wallet is on chain {chainId ?? "?"}; StreamVault runs on chain {expected}.
      </span>
      <button className="btn" onClick={() => switchChain({ chainId: expected })} disabled={isPending}>
        {isPending ? "Switching…" : "Switch network"}
      </button>
      {error && <span className="err">{error.message.split("\n")[0]}</span>}
    </div>
  );
}

/**
 * Banner shown when the page was opened at another origin than the configured one (say
 * `localhost` instead of 127.0.0.1): wallet sign-in (SIWE) names the configured origin, so the
 * server refuses sign-ins from here (403) and nothing paid would play. Links to the same page there.
 */
export function WrongOrigin() {
  const { origin } = useAppConfig();
  const [here, setHere] = useState<{ origin: string; path: string } | null>(null);
  const path = usePathname();
  useEffect(() => setHere({ origin: window.location.origin, path: window.location.pathname + window.location.search }), [path]);
  if (!here || !origin || here.origin === origin) return null;
  const target = `${origin}${here.path}`;
  return (
    <div className="banner warn" role="alert" data-testid="wrong-origin">
      <span>
        You opened StreamVault at <code>{here.origin}</code>, but it is set up for <code>{origin}</code> (<code>WEB_ORIGIN</code>). Wallet sign-in names that
        address, so here the server refuses it and nothing you unlocked can play (only previews and free tracks do).
      </span>
      <a className="btn primary" href={target} data-testid="wrong-origin-link">
        Open {origin.replace(/^https?:\/\//, "")}
      </a>
    </div>
  );
}

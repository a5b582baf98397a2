/**
 * A third-party page ("Nova's fan site") that embeds StreamVault with @streamvault/sdk: its own
 * wagmi config (an injected wallet, its own RPC URL), the SDK's player and payment widget for one
 * item, and the creator's live dashboard. Nothing here comes from the StreamVault web app's code.
 */
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider, createConfig, http, useAccount, useConnect, useDisconnect } from "wagmi";
import { defineChain, type Hex } from "viem";
import { StreamVaultProvider, StreamPlayer, PaymentWidget, UnlockButton, CreatorDashboard, type StreamSession, type StreamVaultConfig } from "@streamvault/sdk";

/** Written by serve.ts next to the page: the deployment, the StreamVault server, the RPC URL, the item. */
interface EmbedConfig {
  streamvault: StreamVaultConfig;
  rpcUrl: string;
  contentId: Hex;
  creator?: Hex;
}

function Wallet() {
  const { address } = useAccount();
  const { connectors, connect, error } = useConnect();
  const { disconnect } = useDisconnect();
  if (address) {
    return (
      <p className="wallet" data-testid="embed-wallet">
        {address.slice(0, 6)}…{address.slice(-4)} <button className="btn" onClick={() => disconnect()}>Disconnect</button>
      </p>
    );
  }
  return (
    <p className="wallet">
      {connectors.map((c) => (
        <button key={c.uid} className="btn primary" onClick={() => connect({ connector: c })} data-testid="embed-connect">
          Connect {c.name}
        </button>
      ))}
      {connectors.length === 0 && <span className="muted">Install a browser wallet to unlock.</span>}
      {error && <span className="status err">{error.message}</span>}
    </p>
  );
}

function Page({ config }: { config: EmbedConfig }) {
  const [stream, setStream] = useState<StreamSession | null>(null);
  return (
    <main>
      <header>
        <h1>Nova Sound · official fan site</h1>
        <Wallet />
      </header>
      <section className="card">
        <h2>New single</h2>
        <StreamPlayer contentId={config.contentId} title="Aurora Drift" stream={stream} />
        <p>
          Quick unlock: <UnlockButton contentId={config.contentId} />
        </p>
      </section>
      <section className="card">
        <PaymentWidget contentId={config.contentId} onStream={setStream} />
      </section>
      {config.creator && (
        <section className="card">
          <h2>Live from the studio</h2>
          <CreatorDashboard creator={config.creator} />
        </section>
      )}
    </main>
  );
}

async function main() {
  const config = (await (await fetch("./config.json")).json()) as EmbedConfig;
  const chain = defineChain({
    id: config.streamvault.chainId,
    name: config.streamvault.chainId === 31337 ? "StreamVault Local" : `Chain ${config.streamvault.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  // The host's own wagmi config: EIP-6963 wallets found in the page, its own RPC endpoint.
  const wagmi = createConfig({ chains: [chain], connectors: [], transports: { [chain.id]: http(config.rpcUrl) }, multiInjectedProviderDiscovery: true });
  const queryClient = new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false, retry: 1 } } });
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <WagmiProvider config={wagmi}>
        <QueryClientProvider client={queryClient}>
          <StreamVaultProvider config={config.streamvault}>
            <Page config={config} />
          </StreamVaultProvider>
        </QueryClientProvider>
      </WagmiProvider>
    </StrictMode>,
  );
}

void main();

"use client";
import "@rainbow-me/rainbowkit/styles.css";
import { useState, type ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider, createConfig, http } from "wagmi";
import { defineChain } from "viem";
import { RainbowKitProvider, connectorsForWallets, darkTheme } from "@rainbow-me/rainbowkit";
import { injectedWallet } from "@rainbow-me/rainbowkit/wallets";
import { StreamVaultProvider } from "@streamvault/sdk";
import { ConfigProvider, type ClientConfig } from "@/lib/client/config";

function makeWagmi(config: ClientConfig) {
  // Same-origin JSON-RPC proxy (app/api/rpc): the browser never talks to another host.
  const rpc = "/api/rpc";
  const chain = defineChain({
    id: config.chainId,
    name: config.chainId === 31337 ? "StreamVault Local" : `Chain ${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
    testnet: true,
  });
  // Injected and EIP-6963 wallets only: no WalletConnect (it needs a project id and remote relays).
  const connectors = connectorsForWallets([{ groupName: "Installed", wallets: [injectedWallet] }], {
    appName: "StreamVault",
    projectId: "streamvault-local",
  });
  return createConfig({
    chains: [chain],
    connectors,
    // At most 20 calls per batch: the proxy refuses longer batches (RPC_PROXY_MAX_BATCH).
    transports: { [chain.id]: http(rpc, { batch: { batchSize: 20 } }) },
    multiInjectedProviderDiscovery: true,
    ssr: true,
  });
}

export function Providers({ config, children }: { config: ClientConfig; children: ReactNode }) {
  const [wagmi] = useState(() => makeWagmi(config));
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false, retry: 1 } } }));
  return (
    // The app is the StreamVault server itself: the SDK's API base is this origin ("").
    <ConfigProvider value={config}>
      <StreamVaultProvider config={config}>
        <WagmiProvider config={wagmi}>
          <QueryClientProvider client={queryClient}>
            <RainbowKitProvider theme={darkTheme({ accentColor: "#7c5cff" })} modalSize="compact" showRecentTransactions={false}>
              {children}
            </RainbowKitProvider>
          </QueryClientProvider>
        </WagmiProvider>
      </StreamVaultProvider>
    </ConfigProvider>
  );
}

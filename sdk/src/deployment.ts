/**
 * The SDK's configuration: a StreamVault deployment (chain, contract addresses as lib/deployments
 * writes them) and where its server and indexer answer. Plain TypeScript (no JSX), so Node scripts
 * can build a config too.
 */
import type { Address } from "viem";

export interface StreamVaultContracts {
  ContentAccess: Address;
  CreatorRegistry: Address;
  PaymentChannels: Address;
  MockStablecoin?: Address;
  BackupRegistry?: Address;
}

export interface StreamVaultConfig {
  chainId: number;
  contracts: StreamVaultContracts;
  /**
   * Origin of the StreamVault server ("https://app.streamvault.xyz"); "" (the default) means the
   * page's own origin, as in the StreamVault web app. Another origin must list this site in the
   * server's `SDK_ORIGINS`.
   */
  apiBase?: string;
  /** The Ponder indexer (GraphQL, `/sql/live`), for `<CreatorDashboard>` and `createIndexerClient`. */
  indexerUrl?: string;
  /**
   * The origin the server's sign-in (SIWE) messages name, when the page must be open there (the
   * StreamVault web app itself): opened elsewhere (localhost vs 127.0.0.1), the player says so.
   */
  origin?: string;
}

export interface ResolvedConfig extends StreamVaultConfig {
  apiBase: string;
}

/** A deployment as lib/deployments writes it: `{ chainId, contracts: { Name: { address } } }`. */
export interface DeploymentLike {
  chainId: number;
  contracts: Record<string, { address: Address } | undefined>;
}

/** The SDK config of a `deployments/<chainId>.json` (throws, naming what is missing, when a contract is absent). */
export function configFromDeployment(deployment: DeploymentLike, urls: { apiBase?: string; indexerUrl?: string } = {}): StreamVaultConfig {
  const need = (name: "ContentAccess" | "CreatorRegistry" | "PaymentChannels") => {
    const address = deployment.contracts[name]?.address;
    if (!address) throw new Error(`the deployment of chain ${deployment.chainId} has no ${name}: deploy the system first (npm run deploy)`);
    return address;
  };
  return {
    chainId: deployment.chainId,
    contracts: {
      ContentAccess: need("ContentAccess"),
      CreatorRegistry: need("CreatorRegistry"),
      PaymentChannels: need("PaymentChannels"),
      MockStablecoin: deployment.contracts.MockStablecoin?.address,
      BackupRegistry: deployment.contracts.BackupRegistry?.address,
    },
    ...urls,
  };
}


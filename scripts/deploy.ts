/**
 * `npm run deploy`: deploys StreamVault to the chain at RPC_URL (default http://127.0.0.1:8545)
 * with DEPLOYER_PRIVATE_KEY (default: the first local development key) and writes
 * deployments/<chainId>.json.
 */
import { createPublicClient, createWalletClient, defineChain, http, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { writeDeployment } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";

const rpcUrl = process.env.RPC_URL ?? "http://127.0.0.1:8545";
const privateKey = (process.env.DEPLOYER_PRIVATE_KEY ?? DEV_PRIVATE_KEYS[0]) as Hex;

const probe = createPublicClient({ transport: http(rpcUrl) });
let chainId: number;
try {
  chainId = await probe.getChainId();
} catch {
  console.error(`Cannot reach a chain at ${rpcUrl}. Start one with \`npm run chain\` or set RPC_URL.`);
  process.exit(1);
}
const chain = defineChain({
  id: chainId,
  name: `chain-${chainId}`,
  nativeCurrency: { name: "Ether", symbol: chainId === 314 || chainId === 314159 ? "FIL" : "ETH", decimals: 18 },
  rpcUrls: { default: { http: [rpcUrl] } },
});
const account = privateKeyToAccount(privateKey);
const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
const walletClient = createWalletClient({ chain, account, transport: http(rpcUrl) });

const local = chainId === 31337;
const deployment = await deploySystem({
  publicClient,
  walletClient,
  owner: (process.env.PLATFORM_OWNER as Hex | undefined) ?? account.address,
  treasury: (process.env.PLATFORM_TREASURY as Hex | undefined) ?? account.address,
  subscriptionPriceNative: local ? parseEther("0.01") : undefined,
  subscriptionPriceStable: local ? 5_000_000n : undefined,
});
const path = writeDeployment(deployment);
console.log(`Deployed StreamVault to chain ${chainId} (${rpcUrl}):`);
for (const [name, c] of Object.entries(deployment.contracts)) console.log(`  ${name.padEnd(16)} ${c.address}  block ${c.blockNumber}`);
console.log(`Wrote ${path}`);

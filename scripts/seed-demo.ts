/**
 * Demo creators and content for the local stack (`npm run dev` runs this on a fresh chain):
 * two creators launch a coin and a pass, and each publishes a few generated tracks through the
 * real pipeline and CLI (free, premium with a price, pass-gated), so Discover, unlock and play
 * have something to show. Only for chain 31337: it uses the public development keys.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, defineChain, http, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { ABIS, contractOf, loadDeployment } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { toolPath } from "@streamvault/lib/media";

interface DemoCreator {
  key: Hex;
  name: string;
  symbol: string;
  tracks: { file: string; title: string; frequency: number; seconds: number; tier: "free" | "premium" | "exclusive"; price?: string; minPasses?: number }[];
}

const CREATORS: DemoCreator[] = [
  {
    key: DEV_PRIVATE_KEYS[1],
    name: "Aria Vale",
    symbol: "ARIA",
    tracks: [
      { file: "01-first-light.wav", title: "First Light", frequency: 220, seconds: 40, tier: "free" },
      { file: "02-harbour.wav", title: "Harbour", frequency: 330, seconds: 75, tier: "premium", price: "0.002" },
    ],
  },
  {
    key: DEV_PRIVATE_KEYS[2],
    name: "Bram Okafor",
    symbol: "BRAM",
    tracks: [
      { file: "01-night-bus.wav", title: "Night Bus", frequency: 262, seconds: 60, tier: "premium", price: "0.001" },
      { file: "02-backstage.wav", title: "Backstage (pass holders)", frequency: 392, seconds: 50, tier: "exclusive", minPasses: 1 },
    ],
  },
];

/** Seeds the demo catalogue into `home` (the CLI's data directory) on the chain at `rpcUrl`. */
export async function seedDemo(rpcUrl: string, home: string): Promise<void> {
  const chain = defineChain({
    id: 31337,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const registry = contractOf(loadDeployment(31337), "CreatorRegistry");

  for (const creator of CREATORS) {
    const wallet = createWalletClient({ chain, account: privateKeyToAccount(creator.key), transport: http(rpcUrl) });
    const coin = await publicClient.readContract({ address: registry.address, abi: ABIS.CreatorRegistry, functionName: "coinOf", args: [wallet.account.address] });
    if (coin === "0x0000000000000000000000000000000000000000") {
      const hash = await wallet.writeContract({
        address: registry.address,
        abi: ABIS.CreatorRegistry,
        functionName: "launchCreator",
        args: [
          { name: `${creator.name} Coin`, symbol: creator.symbol, supply: parseEther("1000000"), creatorAllocation: parseEther("250000") },
          { name: `${creator.name} Pass`, symbol: `${creator.symbol}P`, maxSupply: 500n, mintPrice: parseEther("0.01"), mintEnabled: true, royaltyBps: 500 },
          "",
        ],
      });
      await publicClient.waitForTransactionReceipt({ hash });
    }

    // Generated tones with real tags, so titles and artists show up in Discover.
    const dir = join(home, "demo", creator.symbol.toLowerCase());
    mkdirSync(dir, { recursive: true });
    const metadata: { items: Record<string, unknown> } = { items: {} };
    for (const t of creator.tracks) {
      await run(toolPath("ffmpeg"), [
        "-y", "-loglevel", "error", "-f", "lavfi", "-i", `sine=frequency=${t.frequency}:duration=${t.seconds}`,
        "-metadata", `title=${t.title}`, "-metadata", `artist=${creator.name}`, "-ac", "2", join(dir, t.file),
      ]);
      // Paid tiers are offered per minute too (PaymentChannels.setStreamPrice, through `upload`).
      metadata.items[t.file] = {
        tier: t.tier,
        ...(t.price ? { price: t.price } : {}),
        ...(t.minPasses ? { minPasses: t.minPasses } : {}),
        ...(t.tier !== "free" ? { pricePerMinute: "0.0001" } : {}),
      };
    }
    const metadataFile = join(dir, "metadata.json");
    writeFileSync(metadataFile, JSON.stringify(metadata, null, 2));
    await run(join(REPO_ROOT, "bin", "streamvault"), ["upload", dir, "--metadata", metadataFile, "--home", home], {
      ...process.env,
      RPC_URL: rpcUrl,
      CREATOR_PRIVATE_KEY: creator.key,
    });
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args[0]} exited with ${code}`))));
  });
}

if (import.meta.filename === process.argv[1]) {
  await seedDemo(process.env.RPC_URL ?? "http://127.0.0.1:8545", process.env.STREAMVAULT_HOME ?? join(REPO_ROOT, ".streamvault"));
  console.log("demo creators and content published");
}

/**
 * `npm run bench:gas`: gas of every user-facing operation on a real anvil node, printed as a
 * table and written to bench/gas.json as {"operation": gas}. Also compares a 60-minute streamed
 * session paid on chain every minute (the seed design) with the same session paid by vouchers.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Table from "cli-table3";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  keccak256,
  parseEther,
  toHex,
  zeroAddress,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startAnvil } from "@streamvault/lib/chain/anvil.ts";
import { signPermit } from "@streamvault/lib/chain/permit.ts";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { ABIS, contractOf, REPO_ROOT_DIR } from "./bench-support.ts";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";

const GOALS: Record<string, number> = {
  "purchaseAccess (native)": 100_000,
  "purchaseAccess (erc20)": 100_000,
  "purchaseAccess (permit)": 100_000,
  redeemVoucher: 80_000,
  openChannel: 130_000,
  anchorBackup: 80_000,
  launchCreator: 500_000,
};

const node = await startAnvil();
try {
  const chain = defineChain({
    id: 31337,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [node.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(node.rpcUrl) });
  const [deployer, creator, fan, fan2, collab] = DEV_PRIVATE_KEYS.slice(0, 5).map((k) =>
    createWalletClient({ chain, account: privateKeyToAccount(k), transport: http(node.rpcUrl) }),
  );
  const deployment = await deploySystem({
    publicClient: publicClient as never,
    walletClient: deployer,
    subscriptionPriceNative: parseEther("0.01"),
    mockStablecoin: true,
  });
  const ca = contractOf(deployment, "ContentAccess");
  const reg = contractOf(deployment, "CreatorRegistry");
  const pc = contractOf(deployment, "PaymentChannels");
  const br = contractOf(deployment, "BackupRegistry");
  const usd = contractOf(deployment, "MockStablecoin");

  const gas: Record<string, number> = {};
  type Wallet = typeof fan;
  async function measure(label: string | null, wallet: Wallet, request: Record<string, unknown>): Promise<number> {
    const hash = await wallet.writeContract(request as never);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${label} reverted`);
    const used = Number(receipt.gasUsed);
    if (label) gas[label] = used;
    return used;
  }
  const now = async () => (await publicClient.getBlock()).timestamp;

  // Creator launch.
  await measure("launchCreator", creator, {
    address: reg.address,
    abi: ABIS.CreatorRegistry,
    functionName: "launchCreator",
    args: [
      { name: "Aria Coin", symbol: "ARIA", supply: parseEther("1000000"), creatorAllocation: parseEther("400000") },
      { name: "Aria Pass", symbol: "ARIAP", maxSupply: 1000n, mintPrice: parseEther("0.01"), mintEnabled: true, royaltyBps: 500 },
      "ipfs://bafyprofile",
    ],
  });
  const [coinAddress, passAddress] = await publicClient.readContract({
    address: reg.address,
    abi: ABIS.CreatorRegistry,
    functionName: "creatorTokens",
    args: [creator.account.address],
  });

  // Content registration: a premium item with a coin rule, a price and one collaborator.
  const cid = toHex(new Uint8Array(41).fill(7));
  const price = parseEther("0.01");
  const rules = (paymentToken: Address, p: bigint) => ({
    minCoinBalance: 1000n,
    minPasses: 1n,
    inSubscription: true,
    paymentToken,
    price: p,
    duration: 0,
  });
  const oneCollaborator = [{ account: collab.account.address, shareBps: 1000 }];
  const registerContent = async (label: string | null, ext: string, token: Address, p: bigint, collaborators: typeof oneCollaborator = []) => {
    await measure(label, creator, {
      address: ca.address,
      abi: ABIS.ContentAccess,
      functionName: "registerContent",
      args: [keccak256(toHex(ext)), cid, 1, rules(token, p), collaborators],
    });
    return publicClient.readContract({
      address: ca.address,
      abi: ABIS.ContentAccess,
      functionName: "contentIdOf",
      args: [creator.account.address, keccak256(toHex(ext))],
    });
  };
  // Headline figures: a solo creator's item. The "(1 collaborator)" rows add one more payee.
  const song = await registerContent("registerContent", "song", zeroAddress, price);
  const stableSong = await registerContent(null, "stable-song", usd.address, 5_000_000n);
  const duet = await registerContent("registerContent (1 collaborator)", "duet", zeroAddress, price, oneCollaborator);
  const stableDuet = await registerContent(null, "stable-duet", usd.address, 5_000_000n, oneCollaborator);

  // Purchases: the first buyer pays for creating the payees' balances; measure a second buyer.
  const buy = (label: string | null, wallet: Wallet, id: Hex = song) =>
    measure(label, wallet, { address: ca.address, abi: ABIS.ContentAccess, functionName: "purchaseAccess", args: [id, 1], value: price });
  await buy(null, fan);
  await buy("purchaseAccess (native)", fan2);
  await buy(null, fan, duet);
  await buy("purchaseAccess (native, 1 collaborator)", fan2, duet);
  for (const w of [fan, fan2]) {
    await measure(null, w, { address: usd.address, abi: ABIS.MockStablecoin, functionName: "mint", args: [w.account.address, 100_000_000n] });
  }
  for (const [label, id] of [
    ["purchaseAccess (erc20)", stableSong],
    ["purchaseAccess (erc20, 1 collaborator)", stableDuet],
  ] as const) {
    await measure(null, fan, { address: usd.address, abi: ABIS.MockStablecoin, functionName: "approve", args: [ca.address, 5_000_000n] });
    await measure(null, fan, { address: ca.address, abi: ABIS.ContentAccess, functionName: "purchaseAccess", args: [id, 1] });
    await measure(null, fan2, { address: usd.address, abi: ABIS.MockStablecoin, functionName: "approve", args: [ca.address, 5_000_000n] });
    await measure(label, fan2, { address: ca.address, abi: ABIS.ContentAccess, functionName: "purchaseAccess", args: [id, 1] });
  }
  {
    const deadline = (await now()) + 3600n;
    const nonce = await publicClient.readContract({ address: usd.address, abi: ABIS.MockStablecoin, functionName: "nonces", args: [fan2.account.address] });
    const permit = await signPermit(fan2, {
      token: { address: usd.address, name: "Mock USD Coin", version: "1" },
      chainId: 31337,
      owner: fan2.account.address,
      spender: ca.address,
      value: 5_000_000n,
      nonce,
      deadline,
    });
    await measure("purchaseAccess (permit)", fan2, {
      address: ca.address,
      abi: ABIS.ContentAccess,
      functionName: "purchaseAccessWithPermit",
      args: [stableSong, 1, deadline, permit.v, permit.r, permit.s],
    });
  }
  await measure("subscribe", fan, {
    address: ca.address,
    abi: ABIS.ContentAccess,
    functionName: "subscribe",
    args: [zeroAddress, 1, parseEther("0.01")],
    value: parseEther("0.01"),
  });

  // Payment channels.
  const rate = parseEther("0.0001");
  const noKey: { key: Address; spendingCap: bigint; expiresAt: bigint } = { key: zeroAddress, spendingCap: 0n, expiresAt: 0n };
  const open = async (label: string | null, wallet: Wallet, sessionKey = noKey, contentId: Hex = song) => {
    const deposit = rate * 120n;
    await measure(label, wallet, {
      address: pc.address,
      abi: ABIS.PaymentChannels,
      functionName: "openChannel",
      args: [{ contentId, token: zeroAddress, deposit, ratePerMinute: rate, expiresAt: (await now()) + 7n * 86400n, sessionKey }],
      value: deposit,
    });
    return publicClient.readContract({ address: pc.address, abi: ABIS.PaymentChannels, functionName: "channelCount" });
  };
  const sign = (wallet: Wallet, channelId: bigint, cumulativeAmount: bigint) =>
    wallet.signTypedData({
      domain: { name: "StreamVault PaymentChannels", version: "1", chainId: 31337, verifyingContract: pc.address },
      types: { Voucher: [{ name: "channelId", type: "uint256" }, { name: "cumulativeAmount", type: "uint256" }] },
      primaryType: "Voucher",
      message: { channelId, cumulativeAmount },
    });
  const redeem = (label: string | null, channelId: bigint, amount: bigint, signature: Hex) =>
    measure(label, creator, { address: pc.address, abi: ABIS.PaymentChannels, functionName: "redeemVoucher", args: [channelId, amount, signature] });

  // The creator offers both items per minute at the rate the fans open channels at.
  const offer = (label: string | null, contentId: Hex) =>
    measure(label, creator, { address: pc.address, abi: ABIS.PaymentChannels, functionName: "setStreamPrice", args: [contentId, zeroAddress, rate] });
  await offer("setStreamPrice", song);
  await offer(null, duet);
  const warm = await open(null, fan);
  await redeem(null, warm, rate, await sign(fan, warm, rate));
  const ch = await open("openChannel", fan2);
  await open("openChannel (with session key)", fan2, {
    key: collab.account.address,
    spendingCap: rate * 100n,
    expiresAt: (await now()) + 86400n,
  });
  await redeem("redeemVoucher", ch, rate * 10n, await sign(fan2, ch, rate * 10n));
  const warmDuet = await open(null, fan, noKey, duet);
  await redeem(null, warmDuet, rate, await sign(fan, warmDuet, rate));
  const chDuet = await open(null, fan2, noKey, duet);
  await redeem("redeemVoucher (1 collaborator)", chDuet, rate * 10n, await sign(fan2, chDuet, rate * 10n));
  await measure("closeChannel", creator, {
    address: pc.address,
    abi: ABIS.PaymentChannels,
    functionName: "closeChannel",
    args: [ch, rate * 20n, await sign(fan2, ch, rate * 20n)],
  });

  // Backups: the first anchor also creates the creator's history; later ones are the steady state.
  const anchor = (label: string | null, n: number) =>
    measure(label, creator, {
      address: br.address,
      abi: ABIS.BackupRegistry,
      functionName: "anchorBackup",
      args: [creator.account.address, cid, keccak256(toHex(`snapshot-${n}`)), 123_456n, 0, 0n],
    });
  await anchor("anchorBackup (first)", 1);
  await anchor("anchorBackup", 2);

  await measure("withdraw", creator, { address: ca.address, abi: ABIS.ContentAccess, functionName: "withdraw", args: [zeroAddress] });

  // hasValidAccess per reason, as eth_estimateGas of the view (includes the 21,000 intrinsic gas).
  const estimateAccess = async (user: Address, contentId: Hex) =>
    Number(
      await publicClient.estimateGas({
        account: user,
        to: ca.address,
        data: encodeFunctionData({ abi: ABIS.ContentAccess, functionName: "hasValidAccess", args: [user, contentId] }),
      }),
    );
  const accessGas = async (label: string, user: Address) => {
    gas[`hasValidAccess (${label})`] = await estimateAccess(user, song);
  };
  const wallets = DEV_PRIVATE_KEYS.slice(5, 9).map((k) => createWalletClient({ chain, account: privateKeyToAccount(k), transport: http(node.rpcUrl) }));
  const [coinHolder, passHolder, subscriber, nobody] = wallets;
  const freeId = await registerContent(null, "free-song", zeroAddress, 0n);
  await measure(null, creator, { address: coinAddress, abi: ABIS.CreatorCoin, functionName: "transfer", args: [coinHolder.account.address, 1000n] });
  await measure(null, creator, { address: passAddress, abi: ABIS.CreatorPass, functionName: "airdrop", args: [[passHolder.account.address]] });
  await measure(null, subscriber, { address: ca.address, abi: ABIS.ContentAccess, functionName: "subscribe", args: [zeroAddress, 1, parseEther("0.01")], value: parseEther("0.01") });
  await measure(null, creator, {
    address: ca.address,
    abi: ABIS.ContentAccess,
    functionName: "updateRules",
    args: [freeId, rules(zeroAddress, 0n)],
  });
  await accessGas("creator", creator.account.address);
  gas["hasValidAccess (free)"] = await estimateAccess(nobody.account.address, await registerFree());
  await accessGas("coin", coinHolder.account.address);
  await accessGas("pass", passHolder.account.address);
  await accessGas("subscription", subscriber.account.address);
  await accessGas("purchase", fan2.account.address);
  await accessGas("none", nobody.account.address);

  async function registerFree() {
    const ext = keccak256(toHex("really-free"));
    await measure(null, creator, {
      address: ca.address,
      abi: ABIS.ContentAccess,
      functionName: "registerContent",
      args: [ext, cid, 0, rules(zeroAddress, 0n), []],
    });
    return publicClient.readContract({ address: ca.address, abi: ABIS.ContentAccess, functionName: "contentIdOf", args: [creator.account.address, ext] });
  }

  // A 60-minute session. Seed design: a payment transaction every minute. Here: the same money
  // moved by 60 per-minute on-chain payments (each a redemption of one more minute) versus one
  // open and one close with the final voucher.
  const perMinute = await open(null, fan);
  let perMinuteGas = gas.openChannel;
  for (let minute = 1n; minute <= 60n; minute++) {
    perMinuteGas += await redeem(null, perMinute, rate * minute, await sign(fan, perMinute, rate * minute));
  }
  const vouchers = await open(null, fan);
  let voucherGas = gas.openChannel;
  let finalSig: Hex = "0x";
  for (let minute = 1n; minute <= 60n; minute++) finalSig = await sign(fan, vouchers, rate * minute); // off-chain
  voucherGas += await measure(null, creator, {
    address: pc.address,
    abi: ABIS.PaymentChannels,
    functionName: "closeChannel",
    args: [vouchers, rate * 60n, finalSig],
  });
  gas["session 60 min: payment per minute"] = perMinuteGas;
  gas["session 60 min: vouchers"] = voucherGas;

  const table = new Table({ head: ["operation", "gas", "goal", "ok"] });
  for (const [op, g] of Object.entries(gas)) {
    const goal = GOALS[op];
    table.push([op, g.toLocaleString("en-US"), goal ? `≤ ${goal.toLocaleString("en-US")}` : "", goal ? (g <= goal ? "yes" : "NO") : ""]);
  }
  console.log(table.toString());
  console.log(
    `60-minute session: ${perMinuteGas.toLocaleString("en-US")} gas paying every minute on chain vs ${voucherGas.toLocaleString("en-US")} with vouchers ` +
      `(${(perMinuteGas / voucherGas).toFixed(1)}x less with vouchers; 61 vs 2 transactions).`,
  );
  mkdirSync(join(REPO_ROOT_DIR, "bench"), { recursive: true });
  writeFileSync(join(REPO_ROOT_DIR, "bench", "gas.json"), JSON.stringify(gas, null, 2) + "\n");
  console.log("wrote bench/gas.json");
} finally {
  await node.stop();
}

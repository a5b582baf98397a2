/**
 * A scripted StreamVault history for the indexer tests: three creators launch; contents are
 * registered and updated; passes are bought, renewed and transferred; coins move; a fan
 * subscribes; a payment channel is opened, redeemed twice and closed; backups are anchored; payees
 * withdraw. Returns the ids and the values the scenario itself knows, for assertions.
 */
import { keccak256, parseEther, toHex, zeroAddress, type Account, type Address, type Hex } from "viem";
import {
  backupRegistryAbi,
  contentAccessAbi,
  creatorCoinAbi,
  creatorPassAbi,
  creatorRegistryAbi,
  mockStablecoinAbi,
  paymentChannelsAbi,
} from "@streamvault/lib/deployments/abis.ts";
import { voucherTypedData } from "@streamvault/lib/chain/voucher.ts";
import { startIndexer, startLocalChain, type IndexerProcess, type LocalChain, type StartIndexerOptions } from "./harness.ts";

export const NATIVE = zeroAddress;
export const DAY = 86_400n;
export const Tier = { Free: 0, Premium: 1, Exclusive: 2 } as const;

/** A CID-shaped byte string (the contracts do not parse it). */
export function fakeCid(seed: number): Hex {
  return toHex(new Uint8Array(39).map((_, i) => (i < 3 ? [0x01, 0x55, 0x91][i]! : (i * 13 + seed * 7) & 0xff)));
}

const noRules = {
  minCoinBalance: 0n,
  minPasses: 0n,
  inSubscription: false,
  paymentToken: NATIVE as Address,
  price: 0n,
  duration: 0,
};
type Rules = typeof noRules;

export interface ScenarioResult {
  contracts: { contentAccess: Address; registry: Address; channels: Address; backups: Address; stable: Address; liveStreams: Address };
  accounts: Record<
    "deployer" | "treasury" | "aria" | "bex" | "cy" | "fan1" | "fan2" | "collab1" | "collab2" | "service",
    Address
  >;
  tokens: Record<"aria" | "bex" | "cy", { coin: Address; pass: Address }>;
  content: Record<"a1" | "a2" | "a3" | "a4" | "b1" | "b2" | "c1", Hex>;
  channelId: bigint;
  /** Every content id, every wallet that matters: the access matrix is checked over these. */
  wallets: Address[];
  lastBlock: bigint;
  known: {
    a1Price: bigint;
    b1Price: bigint;
    a4Price: bigint;
    subscriptionTotal: bigint;
    passMintPrice: bigint;
    deposit: bigint;
    redeemed: [bigint, bigint];
    a1ManifestV2: Hex;
    b1CollaboratorsAfter: { account: Address; shareBps: number }[];
  };
}

export async function runScenario(chain: LocalChain): Promise<ScenarioResult> {
  const { deployment, publicClient } = chain;
  const [deployer, treasury, aria, bex, cy, fan1, fan2, collab1, collab2, service] = chain.accounts as [
    Account, Account, Account, Account, Account, Account, Account, Account, Account, Account,
  ];
  const c = deployment.contracts;
  const contentAccess = c.ContentAccess!.address;
  const registry = c.CreatorRegistry!.address;
  const channels = c.PaymentChannels!.address;
  const backups = c.BackupRegistry!.address;
  const stable = c.MockStablecoin!.address;
  const liveStreams = c.LiveStreams!.address;

  async function send(account: Account, request: { address: Address; abi: readonly unknown[]; functionName: string; args?: readonly unknown[]; value?: bigint }) {
    const hash = await chain.wallet(account).writeContract(request as never);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${request.functionName} reverted`);
    return receipt;
  }
  const ca = (account: Account, functionName: string, args: readonly unknown[], value?: bigint) =>
    send(account, { address: contentAccess, abi: contentAccessAbi, functionName, args, value });

  // ------------------------------------------------------------ launches
  const launches = [
    { who: aria, coin: ["Aria Coin", "ARIA", parseEther("1000000"), parseEther("400000")], pass: ["Aria Pass", "ARIAP", 100n, parseEther("0.05"), true, 500], uri: "ipfs://aria" },
    { who: bex, coin: ["Bex Coin", "BEX", parseEther("500000"), parseEther("500000")], pass: ["Bex Pass", "BEXP", 10n, parseEther("0.1"), true, 250], uri: "ipfs://bex" },
    { who: cy, coin: ["Cy Coin", "CY", parseEther("1000"), 0n], pass: ["Cy Pass", "CYP", 5n, 0n, false, 0], uri: "" },
  ] as const;
  const tokens = {} as ScenarioResult["tokens"];
  for (const [name, l] of [["aria", launches[0]], ["bex", launches[1]], ["cy", launches[2]]] as const) {
    const [cName, cSymbol, supply, creatorAllocation] = l.coin;
    const [pName, pSymbol, maxSupply, mintPrice, mintEnabled, royaltyBps] = l.pass;
    await send(l.who, {
      address: registry,
      abi: creatorRegistryAbi,
      functionName: "launchCreator",
      args: [
        { name: cName, symbol: cSymbol, supply, creatorAllocation },
        { name: pName, symbol: pSymbol, maxSupply, mintPrice, mintEnabled, royaltyBps },
        l.uri,
      ],
    });
    const [coin, pass] = (await publicClient.readContract({
      address: registry,
      abi: creatorRegistryAbi,
      functionName: "creatorTokens",
      args: [l.who.address],
    })) as readonly [Address, Address];
    tokens[name] = { coin, pass };
  }
  await send(aria, { address: registry, abi: creatorRegistryAbi, functionName: "setProfileURI", args: ["ipfs://aria-v2"] });
  const passMintPrice = parseEther("0.04");
  await send(aria, { address: tokens.aria.pass, abi: creatorPassAbi, functionName: "setMintConfig", args: [passMintPrice, true] });
  await send(aria, { address: tokens.aria.pass, abi: creatorPassAbi, functionName: "setMetadataURI", args: ["https://gw.example/aria-pass.json"] });

  // ------------------------------------------------------------ contents
  const externalId = (label: string) => keccak256(toHex(label));
  async function register(creator: Account, label: string, tier: number, rules: Partial<Rules>, collaborators: { account: Address; shareBps: number }[] = [], cid = fakeCid(label.length)) {
    const ext = externalId(label);
    await ca(creator, "registerContent", [ext, cid, tier, { ...noRules, ...rules }, collaborators]);
    return (await publicClient.readContract({ address: contentAccess, abi: contentAccessAbi, functionName: "contentIdOf", args: [creator.address, ext] })) as Hex;
  }
  const a1Price = parseEther("0.015");
  const b1Price = parseEther("0.02");
  const a4Price = 5_000_000n;
  const content = {
    a1: await register(aria, "aria/song-1", Tier.Premium, { price: parseEther("0.01"), inSubscription: true, duration: 86_400 }, [{ account: collab1.address, shareBps: 2000 }], fakeCid(1)),
    a2: await register(aria, "aria/backstage", Tier.Exclusive, { minPasses: 1n }, [], fakeCid(2)),
    a3: await register(aria, "aria/teaser", Tier.Free, {}, [], fakeCid(3)),
    a4: await register(aria, "aria/album", Tier.Premium, { minCoinBalance: parseEther("100"), paymentToken: stable, price: a4Price }, [], fakeCid(4)),
    b1: await register(bex, "bex/episode-1", Tier.Premium, { price: b1Price }, [
      { account: collab1.address, shareBps: 1000 },
      { account: collab2.address, shareBps: 500 },
    ], fakeCid(5)),
    b2: await register(bex, "bex/episode-2", Tier.Premium, { inSubscription: true }, [], fakeCid(6)),
    c1: await register(cy, "cy/demo", Tier.Exclusive, { minCoinBalance: 1n }, [], fakeCid(7)),
  };
  await ca(aria, "updateRules", [content.a1, { ...noRules, price: a1Price, inSubscription: true, duration: 86_400 }]);
  const a1ManifestV2 = fakeCid(11);
  await ca(aria, "updateManifest", [content.a1, a1ManifestV2]);
  const b1CollaboratorsAfter = [{ account: collab2.address, shareBps: 3000 }];
  await ca(bex, "updateCollaborators", [content.b1, b1CollaboratorsAfter]);

  // ------------------------------------------------------------ purchases and subscriptions
  await ca(fan1, "purchaseAccess", [content.a1, 2], a1Price); // terms version 2: a1's rules were updated once
  await ca(fan1, "purchaseAccess", [content.a1, 2], a1Price); // renewal: extends by another day
  await ca(fan2, "purchaseAccess", [content.b1, 1], b1Price);
  await send(fan1, { address: stable, abi: mockStablecoinAbi, functionName: "mint", args: [fan1.address, 100_000_000n] });
  await send(fan1, { address: stable, abi: mockStablecoinAbi, functionName: "approve", args: [contentAccess, a4Price] });
  await ca(fan1, "purchaseAccess", [content.a4, 1]);
  const subscriptionTotal = parseEther("0.02");
  await ca(fan2, "subscribe", [NATIVE, 2, subscriptionTotal], subscriptionTotal);

  // ------------------------------------------------------------ passes and coins
  await send(fan1, { address: tokens.aria.pass, abi: creatorPassAbi, functionName: "mint", args: [2n], value: passMintPrice * 2n });
  await send(fan1, { address: tokens.aria.pass, abi: creatorPassAbi, functionName: "transferFrom", args: [fan1.address, fan2.address, 2n] });
  await send(aria, { address: tokens.aria.pass, abi: creatorPassAbi, functionName: "airdrop", args: [[collab1.address]] });
  await send(bex, { address: tokens.bex.pass, abi: creatorPassAbi, functionName: "mint", args: [1n], value: parseEther("0.1") });
  await send(aria, { address: tokens.aria.coin, abi: creatorCoinAbi, functionName: "transfer", args: [fan1.address, parseEther("500")] });
  await send(aria, { address: tokens.aria.coin, abi: creatorCoinAbi, functionName: "distribute", args: [[fan2.address], [parseEther("200")]] });
  await send(fan1, { address: tokens.aria.coin, abi: creatorCoinAbi, functionName: "transfer", args: [fan2.address, parseEther("450")] });
  await send(cy, { address: tokens.cy.coin, abi: creatorCoinAbi, functionName: "distribute", args: [[fan1.address, collab2.address], [1n, 2n]] });

  // ------------------------------------------------------------ payment channel
  const deposit = parseEther("0.1");
  // Creators price items per minute: b1 in native (then raised), a1 in the stablecoin, then withdrawn.
  await send(bex, { address: channels, abi: paymentChannelsAbi, functionName: "setStreamPrice", args: [content.b1, NATIVE, parseEther("0.0005")] });
  await send(bex, { address: channels, abi: paymentChannelsAbi, functionName: "setStreamPrice", args: [content.b1, NATIVE, parseEther("0.001")] });
  await send(aria, { address: channels, abi: paymentChannelsAbi, functionName: "setStreamPrice", args: [content.a1, stable, 10_000n] });
  await send(aria, { address: channels, abi: paymentChannelsAbi, functionName: "setStreamPrice", args: [content.a1, stable, 0n] });
  const now = (await publicClient.getBlock()).timestamp;
  await send(fan1, {
    address: channels,
    abi: paymentChannelsAbi,
    functionName: "openChannel",
    args: [
      {
        contentId: content.b1,
        token: NATIVE,
        deposit,
        ratePerMinute: parseEther("0.001"),
        expiresAt: now + 7n * DAY,
        sessionKey: { key: service.address, spendingCap: parseEther("0.05"), expiresAt: now + 2n * DAY },
      },
    ],
    value: deposit,
  });
  const channelId = (await publicClient.readContract({ address: channels, abi: paymentChannelsAbi, functionName: "channelCount" })) as bigint;
  const sign = (account: Account, cumulativeAmount: bigint) =>
    chain.wallet(account).signTypedData({ account, ...voucherTypedData(31337, channels, channelId, cumulativeAmount) });
  const redeemed: [bigint, bigint] = [parseEther("0.01"), parseEther("0.03")];
  await send(collab2, { address: channels, abi: paymentChannelsAbi, functionName: "redeemVoucher", args: [channelId, redeemed[0], await sign(fan1, redeemed[0])] });
  await send(bex, { address: channels, abi: paymentChannelsAbi, functionName: "redeemVoucher", args: [channelId, redeemed[1], await sign(service, redeemed[1])] });
  await send(bex, { address: channels, abi: paymentChannelsAbi, functionName: "closeChannel", args: [channelId, redeemed[1], "0x"] });

  // ------------------------------------------------------------ backups
  const digest = (n: number) => keccak256(toHex(`snapshot-${n}`));
  await send(aria, { address: backups, abi: backupRegistryAbi, functionName: "anchorBackup", args: [aria.address, fakeCid(21), digest(1), 1_000n, 0, 0n] });
  await send(aria, { address: backups, abi: backupRegistryAbi, functionName: "setDelegate", args: [service.address, true] });
  await send(service, { address: backups, abi: backupRegistryAbi, functionName: "anchorBackup", args: [aria.address, fakeCid(22), digest(2), 2_048n, 1, 1_000n] });
  await send(bex, { address: backups, abi: backupRegistryAbi, functionName: "anchorBackup", args: [bex.address, fakeCid(23), digest(3), 512n, 4, 0n] });

  // ------------------------------------------------------------ withdrawals
  await ca(aria, "withdraw", [NATIVE]);
  await ca(treasury, "withdraw", [NATIVE]);
  await send(bex, { address: channels, abi: paymentChannelsAbi, functionName: "withdraw", args: [NATIVE] });

  const lastBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
  const accounts = {
    deployer: deployer.address,
    treasury: treasury.address,
    aria: aria.address,
    bex: bex.address,
    cy: cy.address,
    fan1: fan1.address,
    fan2: fan2.address,
    collab1: collab1.address,
    collab2: collab2.address,
    service: service.address,
  };
  return {
    contracts: { contentAccess, registry, channels, backups, stable, liveStreams },
    accounts,
    tokens,
    content,
    channelId,
    wallets: Object.values(accounts),
    lastBlock,
    known: { a1Price, b1Price, a4Price, subscriptionTotal, passMintPrice, deposit, redeemed, a1ManifestV2, b1CollaboratorsAfter },
  };
}

/**
 * A local chain with the scenario run on it and an indexer caught up with it: the setup every
 * indexer suite starts from. `indexer` adds options for the indexer (e.g. Postgres).
 */
export async function indexedScenario(
  indexer: Partial<Omit<StartIndexerOptions, "rpcUrl" | "deploymentsDir">> = {},
): Promise<{ chain: LocalChain; s: ScenarioResult; ix: IndexerProcess }> {
  const chain = await startLocalChain();
  let ix: IndexerProcess | undefined;
  try {
    const s = await runScenario(chain);
    ix = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, ...indexer });
    await ix.waitReady();
    await ix.waitForBlock(s.lastBlock, 60_000);
    return { chain, s, ix };
  } catch (error) {
    if (ix) console.error(ix.log().slice(-3000));
    await ix?.stop();
    await chain.stop();
    throw error;
  }
}

/**
 * Bulk on-chain history for backfill tests and the benchmark: a dedicated "load" creator
 * launches and hands out its coin reserve to many wallets, `recipientsPerTx` per transaction
 * (two events each: Transfer and ReserveDistributed), plus pass airdrops.
 */
import { encodeAbiParameters, keccak256, parseEther, toHex, zeroAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { contentAccessAbi, creatorCoinAbi, creatorPassAbi, creatorRegistryAbi } from "@streamvault/lib/deployments/abis.ts";
import type { LocalChain } from "./harness.ts";

export interface LoadResult {
  creator: Address;
  coin: Address;
  pass: Address;
  /** Events emitted by the indexed contracts. */
  events: number;
  recipients: Address[];
  contentIds: Hex[];
  /** The wallet that bought contents. */
  fan: Address;
  lastBlock: bigint;
}

export function loadRecipient(i: number, seed = "load"): Address {
  return `0x${keccak256(toHex(`${seed}-recipient-${i}`)).slice(26)}` as Address;
}

export async function generateLoad(
  chain: LocalChain,
  options: {
    txs: number;
    recipientsPerTx: number;
    passAirdrops?: number;
    seed?: string;
    /** Contents the load creator registers (tiers rotate free / premium / exclusive). */
    contents?: number;
    /** How many of those a funded "load fan" buys. */
    purchases?: number;
    /**
     * Pack this many transactions into each block (automine off, then evm_mine), as on a busy
     * chain; omitted = one transaction per block. Start anvil with a block gas limit that fits
     * them (e.g. `--gas-limit 1000000000`): transactions left over by a full block are not
     * reliably carried to the next one.
     */
    txsPerBlock?: number;
  },
): Promise<LoadResult> {
  const seed = options.seed ?? "load";
  const account = privateKeyToAccount(keccak256(toHex(`${seed}-creator`)) as Hex);
  await chain.rpc("anvil_setBalance", [account.address, toHex(parseEther("1000"))]);
  const wallet = chain.wallet(account);
  const totalRecipients = options.txs * options.recipientsPerTx;
  let pending = 0;
  const hashes: Hex[] = [];
  /** Counts a sent transaction; mines a block every txsPerBlock when packing. */
  const sent = async () => {
    hashes.push(hash);
    if (!options.txsPerBlock) return;
    if (++pending >= options.txsPerBlock) await drain();
  };
  /** Mines until nothing is pending (a block holds as many as its gas limit allows). */
  const drain = async () => {
    for (let i = 0; i < 1_000; i++) {
      await chain.rpc("evm_mine");
      const pool = await chain.rpc<{ pending: string; queued: string }>("txpool_status");
      if (Number(pool.pending) === 0 && Number(pool.queued) === 0) break;
    }
    pending = 0;
  };
  const airdrops = options.passAirdrops ?? 0;
  let hash = await wallet.writeContract({
    address: chain.deployment.contracts.CreatorRegistry!.address,
    abi: creatorRegistryAbi,
    functionName: "launchCreator",
    args: [
      { name: `Load ${seed}`, symbol: "LOAD", supply: BigInt(totalRecipients) * 10n ** 18n + 1n, creatorAllocation: 1n },
      { name: `Load ${seed} Pass`, symbol: "LOADP", maxSupply: BigInt(Math.max(1, airdrops)), mintPrice: 0n, mintEnabled: false, royaltyBps: 0 },
      `ipfs://${seed}`,
    ],
  });
  await chain.publicClient.waitForTransactionReceipt({ hash });
  const [coin, pass] = (await chain.publicClient.readContract({
    address: chain.deployment.contracts.CreatorRegistry!.address,
    abi: creatorRegistryAbi,
    functionName: "creatorTokens",
    args: [account.address],
  })) as readonly [Address, Address];
  // Explicit nonces: with automine off the node's "pending" count is not relied upon.
  let nonce = await chain.publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
  let events = 3; // CreatorLaunched + the two coin mints
  if (options.txsPerBlock) await chain.rpc("evm_setAutomine", [false]);
  const recipients: Address[] = [];
  for (let t = 0; t < options.txs; t++) {
    const batch = Array.from({ length: options.recipientsPerTx }, (_, j) => loadRecipient(t * options.recipientsPerTx + j, seed));
    recipients.push(...batch);
    hash = await wallet.writeContract({
      address: coin,
      abi: creatorCoinAbi,
      functionName: "distribute",
      args: [batch, batch.map((_, j) => BigInt(j + 1) * 10n ** 15n)],
      gas: 30_000n + 60_000n * BigInt(batch.length),
      nonce: nonce++,
    });
    await sent();
    events += batch.length * 2;
  }
  for (let i = 0; i < airdrops; i += 50) {
    const batch = recipients.slice(i, Math.min(i + 50, airdrops));
    hash = await wallet.writeContract({ address: pass, abi: creatorPassAbi, functionName: "airdrop", args: [batch], gas: 100_000n + 80_000n * BigInt(batch.length), nonce: nonce++ });
    await sent();
    events += batch.length;
  }
  const contentAccess = chain.deployment.contracts.ContentAccess!.address;
  const contentIds: Hex[] = [];
  const price = 1_000_000_000_000n;
  for (let i = 0; i < (options.contents ?? 0); i++) {
    const ext = keccak256(toHex(`${seed}-content-${i}`));
    const tier = i % 3;
    const rules = {
      minCoinBalance: tier === 2 ? 10n ** 18n : 0n,
      minPasses: 0n,
      inSubscription: i % 2 === 0,
      paymentToken: zeroAddress,
      price: tier === 0 ? 0n : price,
      duration: 0,
    };
    hash = await wallet.writeContract({ address: contentAccess, abi: contentAccessAbi, functionName: "registerContent", args: [ext, toHex(new Uint8Array(38).fill(i & 0xff)), tier, rules, []], gas: 400_000n, nonce: nonce++ });
    await sent();
    contentIds.push(keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [account.address, ext])));
    events += 1;
  }
  const fan = privateKeyToAccount(keccak256(toHex(`${seed}-fan`)) as Hex);
  if (options.purchases) {
    await chain.rpc("anvil_setBalance", [fan.address, toHex(parseEther("1000"))]);
    const fanWallet = chain.wallet(fan);
    let fanNonce = await chain.publicClient.getTransactionCount({ address: fan.address, blockTag: "pending" });
    let bought = 0;
    for (let i = 0; bought < options.purchases && i < contentIds.length; i++) {
      if (i % 3 === 0) continue; // free
      // Terms version 1: the rules as registered.
      hash = await fanWallet.writeContract({ address: contentAccess, abi: contentAccessAbi, functionName: "purchaseAccess", args: [contentIds[i]!, 1], value: price, gas: 300_000n, nonce: fanNonce++ });
      await sent();
      bought++;
      events += 3; // AccessPurchased, Credited (platform fee), Credited (creator)
    }
  }
  if (options.txsPerBlock) {
    await drain();
    await chain.rpc("evm_setAutomine", [true]);
  }
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
  for (let i = 0; i < hashes.length; i += 50) {
    const receipts = await Promise.all(
      hashes.slice(i, i + 50).map((h, j) =>
        chain.publicClient.getTransactionReceipt({ hash: h }).catch((error) => {
          throw new Error(`load transaction #${i + j} of ${hashes.length} was not mined: ${String(error).slice(0, 120)}`);
        }),
      ),
    );
    const failed = receipts.find((r) => r.status !== "success");
    if (failed) {
      const tx = await chain.publicClient.getTransaction({ hash: failed.transactionHash });
      const why = await chain.publicClient
        .call({ account: tx.from, to: tx.to!, data: tx.input, value: tx.value, blockNumber: failed.blockNumber - 1n })
        .then(() => "no revert when replayed", (error: Error) => error.message.replace(/\s+/g, " ").slice(0, 400));
      throw new Error(`load transaction ${failed.transactionHash} reverted (gas used ${failed.gasUsed} of ${tx.gas}, input ${tx.input.slice(0, 140)}): ${why}`);
    }
  }
  return { creator: account.address, coin, pass, events, recipients, contentIds, fan: fan.address, lastBlock: receipt.blockNumber };
}

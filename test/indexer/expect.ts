/**
 * Checks an indexer's GraphQL answers and JSON endpoints against the chain (contract views) and
 * against the values the scenario knows. Shared by the PGlite, Postgres and restart tests.
 */
import { expect } from "chai";
import { parseEther, zeroAddress, type Address, type Hex } from "viem";
import { backupRegistryAbi, contentAccessAbi, creatorCoinAbi, creatorPassAbi, paymentChannelsAbi } from "@streamvault/lib/deployments/abis.ts";
import type { IndexerProcess, LocalChain } from "./harness.ts";
import type { ScenarioResult } from "./scenario.ts";

const lc = (a: string) => a.toLowerCase();
const REASONS = ["none", "creator", "free", "coin", "pass", "subscription", "purchase"] as const;
const FEE_BPS = 300n;
const fee = (amount: bigint) => (amount * FEE_BPS) / 10_000n;

/** Every row of a GraphQL list field, walking cursors `pageSize` at a time. */
export async function all<T = any>(ix: IndexerProcess, field: string, selection: string, args = "", pageSize = 100): Promise<T[]> {
  const rows: T[] = [];
  let after: string | null = null;
  for (;;) {
    const cursor: string = after ? `, after: "${after}"` : "";
    const data: any = await ix.graphql(`{ ${field}(limit: ${pageSize}${args ? `, ${args}` : ""}${cursor}) { items { ${selection} } pageInfo { hasNextPage endCursor } } }`);
    rows.push(...data[field].items);
    if (!data[field].pageInfo.hasNextPage) return rows;
    after = data[field].pageInfo.endCursor;
  }
}

/** A stable JSON dump of every table (for comparing two indexers). */
export async function dumpTables(ix: IndexerProcess): Promise<Record<string, unknown[]>> {
  const tables: Record<string, string> = {
    creators: "id coin pass profileUri coinReserveDistributed passMintPrice passMintEnabled passMetadataUri launchBlock updatedBlock",
    coinHoldings: "coin holder creator balance updatedBlock",
    passHoldings: "pass holder creator count",
    passTokens: "pass tokenId owner transfers",
    tokenTransfers: "id token kind from to value",
    contents: "id creator tier manifestCid price minCoinBalance minPasses inSubscription duration collaborators revisionCount",
    contentCollaborators: "contentId account shareBps position",
    contentRevisions: "id contentId kind price manifestCid collaborators",
    accessGrants: "contentId buyer expiresAt purchases",
    accessPurchases: "id contentId buyer token amount expiresAt renewal",
    subscriptions: "id expiresAt periods payments",
    subscriptionPayments: "id subscriber amount periods expiresAt",
    streamPrices: "id creator token ratePerMinute updates",
    channels: "id viewer creator deposit redeemed refunded status vouchers sessionKey closesAt",
    sessionKeys: "id channelId key spendingCap",
    voucherRedemptions: "id channelId signer cumulativeAmount paid redeemedTotal",
    credits: "id ledger payee token contentId role amount",
    earnings: "payee token creatorShare platformFee collaboratorShare refund totalCredited withdrawn contentAccessBalance paymentChannelsBalance",
    withdrawals: "id ledger payee token amount",
    passRevenues: "id creator pass amount",
    backups: "creator index anchoredBy pieceCid sha256Digest size trigger milestoneValue",
    backupDelegates: "creator delegate allowed",
    liveStreams: "id creator state segments duration startedAt startedBlock startedTx endedAt endedBlock endedTx",
    platforms: "id treasury platformFeeBps creatorRegistry paused",
    paymentTokens: "id allowed subscriptionPrice",
    dailyStats: "id creatorsLaunched contentsRegistered purchases subscriptions passesMinted coinTransfers passTransfers channelsOpened channelsClosed vouchersRedeemed backupsAnchored withdrawals",
    dailyVolumes: "day token purchaseVolume subscriptionVolume passMintVolume streamingVolume platformFees creatorEarnings collaboratorEarnings refunds withdrawn",
  };
  const out: Record<string, unknown[]> = {};
  for (const [field, selection] of Object.entries(tables)) {
    const rows = await all(ix, field, selection);
    out[field] = rows.map((r) => JSON.stringify(r)).sort().map((r) => JSON.parse(r));
  }
  return out;
}

/** Asserts every table and the access query against the chain and the scenario. */
export async function expectIndexMatchesScenario(ix: IndexerProcess, chain: LocalChain, s: ScenarioResult): Promise<void> {
  const read = (address: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[] = []) =>
    chain.publicClient.readContract({ address, abi, functionName, args } as never) as Promise<any>;
  const A = s.accounts;
  const native = zeroAddress;

  // ---------------------------------------------------------------- creators
  const creators = await all(ix, "creators", "id coin pass profileUri coinName coinSymbol coinSupply coinCreatorAllocation coinReserveDistributed passName passMaxSupply passMintPrice passMintEnabled passRoyaltyBps passMetadataUri launchBlock", `orderBy: "launchBlock"`);
  expect(creators.map((c) => c.id)).to.deep.equal([lc(A.aria), lc(A.bex), lc(A.cy)]);
  for (const [name, row] of [["aria", creators[0]], ["bex", creators[1]], ["cy", creators[2]]] as const) {
    expect(row.coin).to.equal(lc(s.tokens[name].coin));
    expect(row.pass).to.equal(lc(s.tokens[name].pass));
  }
  expect(creators[0]).to.include({ profileUri: "ipfs://aria-v2", coinSymbol: "ARIA", passMintPrice: s.known.passMintPrice.toString(), passMintEnabled: true, passMetadataUri: "https://gw.example/aria-pass.json", coinReserveDistributed: parseEther("200").toString(), passRoyaltyBps: 500 });
  expect(creators[1]).to.include({ profileUri: "ipfs://bex", passMintPrice: parseEther("0.1").toString(), passMaxSupply: "10", passMetadataUri: null });
  expect(creators[2]).to.include({ profileUri: "", passMintEnabled: false, coinReserveDistributed: "3", coinCreatorAllocation: "0" });

  // ---------------------------------------------------------------- coin and pass holdings = chain balances
  const coinRows = await all(ix, "coinHoldings", "coin holder balance creator");
  const passRows = await all(ix, "passHoldings", "pass holder count creator");
  const holders = [...s.wallets, ...Object.values(s.tokens).map((t) => t.coin)];
  let nonZeroCoins = 0;
  for (const [name, t] of Object.entries(s.tokens)) {
    for (const holder of holders) {
      const onChain = (await read(t.coin, creatorCoinAbi, "balanceOf", [holder])) as bigint;
      const row = coinRows.find((r) => r.coin === lc(t.coin) && r.holder === lc(holder));
      expect(BigInt(row?.balance ?? 0), `${name} coin balance of ${holder}`).to.equal(onChain);
      if (onChain > 0n) {
        nonZeroCoins++;
        expect(row.creator).to.equal(lc(A[name as "aria"]));
      }
      const passes = (await read(t.pass, creatorPassAbi, "balanceOf", [holder])) as bigint;
      const prow = passRows.find((r) => r.pass === lc(t.pass) && r.holder === lc(holder));
      expect(BigInt(prow?.count ?? 0), `${name} passes of ${holder}`).to.equal(passes);
    }
  }
  expect(nonZeroCoins).to.be.greaterThan(6);
  const fan2Coins = coinRows.find((r) => r.coin === lc(s.tokens.aria.coin) && r.holder === lc(A.fan2));
  expect(fan2Coins.balance).to.equal(parseEther("650").toString()); // 200 from the reserve + 450 from fan1
  const passTokens = await all(ix, "passTokens", "pass tokenId owner transfers", `orderBy: "tokenId"`);
  expect(passTokens).to.have.length(4);
  for (const t of passTokens) {
    expect(t.owner).to.equal(lc(await read(t.pass, creatorPassAbi, "ownerOf", [BigInt(t.tokenId)])));
  }
  expect(passTokens.find((t) => t.pass === lc(s.tokens.aria.pass) && t.tokenId === "2")).to.include({ owner: lc(A.fan2), transfers: 1 });
  const transfers = await ix.graphql(`{ tokenTransfers(where: { kind: "pass", from_not: "${zeroAddress}" }) { totalCount items { from to value } } }`);
  expect(transfers.tokenTransfers.totalCount).to.equal(1);
  expect(transfers.tokenTransfers.items[0]).to.deep.equal({ from: lc(A.fan1), to: lc(A.fan2), value: "2" });

  // ---------------------------------------------------------------- contents = chain contentInfo
  const contents = await all(ix, "contents", "id creator tier tierName manifestCid manifestPieceCid minCoinBalance minPasses inSubscription paymentToken price duration termsVersion collaborators revisionCount");
  expect(contents).to.have.length(7);
  for (const row of contents) {
    const [creator, tier, manifestCid, rules, collaborators] = await read(s.contracts.contentAccess, contentAccessAbi, "contentInfo", [row.id]);
    expect(row.creator).to.equal(lc(creator));
    expect(row.tier).to.equal(Number(tier));
    expect(row.manifestCid).to.equal(lc(manifestCid));
    expect(row.manifestPieceCid).to.match(/^b[a-z2-7]+$/);
    expect(row.minCoinBalance).to.equal(rules.minCoinBalance.toString());
    expect(row.minPasses).to.equal(rules.minPasses.toString());
    expect(row.inSubscription).to.equal(rules.inSubscription);
    expect(row.paymentToken).to.equal(lc(rules.paymentToken));
    expect(row.price).to.equal(rules.price.toString());
    expect(row.duration).to.equal(String(rules.duration));
    expect(row.collaborators).to.deep.equal(collaborators.map((c: any) => ({ account: lc(c.account), shareBps: Number(c.shareBps) })));
    const terms = await read(s.contracts.contentAccess, contentAccessAbi, "purchaseTerms", [row.id]);
    expect(row.termsVersion, `terms version of ${row.id}`).to.equal(Number(terms[3]));
  }
  const a1 = contents.find((c) => c.id === s.content.a1);
  expect(a1).to.include({ price: s.known.a1Price.toString(), manifestCid: s.known.a1ManifestV2, revisionCount: 2, tierName: "premium", termsVersion: 2 });
  const history = await ix.graphql(`{ contentRevisions(where: { contentId: "${s.content.a1}" }, orderBy: "block", orderDirection: "asc") { totalCount items { kind price manifestCid } } }`);
  expect(history.contentRevisions.items.map((r: any) => r.kind)).to.deep.equal(["registered", "rules", "manifest"]);
  expect(history.contentRevisions.items.map((r: any) => r.price)).to.deep.equal([parseEther("0.01"), s.known.a1Price, s.known.a1Price].map(String));
  const b1Collaborators = await all(ix, "contentCollaborators", "account shareBps position", `where: { contentId: "${s.content.b1}" }`);
  expect(b1Collaborators).to.deep.equal([{ account: lc(A.collab2), shareBps: 3000, position: 0 }]);
  const collab1On = await all(ix, "contentCollaborators", "contentId", `where: { account: "${lc(A.collab1)}" }`);
  expect(collab1On.map((r) => r.contentId)).to.deep.equal([s.content.a1]);

  // ---------------------------------------------------------------- purchases, grants, subscriptions = chain expiries
  const grants = await all(ix, "accessGrants", "contentId buyer expiresAt purchases creator");
  expect(grants).to.have.length(3);
  for (const g of grants) {
    const onChain = (await read(s.contracts.contentAccess, contentAccessAbi, "purchaseExpiry", [g.contentId, g.buyer])) as bigint;
    expect(g.expiresAt).to.equal(onChain.toString());
  }
  expect(grants.find((g) => g.contentId === s.content.a1)).to.include({ buyer: lc(A.fan1), purchases: 2, creator: lc(A.aria) });
  const purchases = await all(ix, "accessPurchases", "contentId buyer token amount renewal expiresAt", `orderBy: "block"`);
  expect(purchases.map((p) => [p.contentId, p.buyer, p.amount, p.renewal])).to.deep.equal([
    [s.content.a1, lc(A.fan1), s.known.a1Price.toString(), false],
    [s.content.a1, lc(A.fan1), s.known.a1Price.toString(), true],
    [s.content.b1, lc(A.fan2), s.known.b1Price.toString(), false],
    [s.content.a4, lc(A.fan1), s.known.a4Price.toString(), false],
  ]);
  expect(BigInt(purchases[1].expiresAt) - BigInt(purchases[0].expiresAt)).to.equal(86_400n);
  expect(purchases[3].token).to.equal(lc(s.contracts.stable));
  const subs = await all(ix, "subscriptions", "id expiresAt periods payments");
  expect(subs).to.have.length(1);
  expect(subs[0]).to.include({ id: lc(A.fan2), periods: "2", payments: 1 });
  expect(subs[0].expiresAt).to.equal(((await read(s.contracts.contentAccess, contentAccessAbi, "subscriptionExpiry", [A.fan2])) as bigint).toString());

  // ---------------------------------------------------------------- stream prices = chain
  const prices = await all(ix, "streamPrices", "id creator token ratePerMinute updates");
  expect(prices.map((p: any) => p.id).sort()).to.deep.equal([s.content.a1, s.content.b1].sort());
  for (const p of prices) {
    const [token, rate] = (await read(s.contracts.channels, paymentChannelsAbi, "streamPrice", [p.id])) as [Address, bigint];
    expect(p, `stream price ${p.id}`).to.include({ token: lc(token), ratePerMinute: rate.toString(), updates: 2 });
  }
  expect(prices.find((p: any) => p.id === s.content.b1)).to.include({ creator: lc(A.bex), token: native, ratePerMinute: parseEther("0.001").toString() });
  expect(prices.find((p: any) => p.id === s.content.a1)).to.include({ creator: lc(A.aria), token: lc(s.contracts.stable), ratePerMinute: "0" });
  const withPrice = await ix.graphql(`{ content(id: "${s.content.b1}") { streamPrice { ratePerMinute } } }`);
  expect(withPrice.content.streamPrice.ratePerMinute).to.equal(parseEther("0.001").toString());

  // ---------------------------------------------------------------- channel and vouchers = chain
  const ch = await ix.graphql(`{ channel(id: "${s.channelId}") { viewer creator contentId token deposit redeemed refunded status vouchers sessionKey sessionKeySpendingCap closesAt redemptions { items { signer paid cumulativeAmount redeemedTotal } } sessionKeys { totalCount } } }`);
  const onChainChannel = await read(s.contracts.channels, paymentChannelsAbi, "getChannel", [s.channelId]);
  expect(ch.channel).to.include({
    viewer: lc(A.fan1),
    creator: lc(A.bex),
    contentId: s.content.b1,
    token: native,
    deposit: s.known.deposit.toString(),
    redeemed: s.known.redeemed[1].toString(),
    refunded: (s.known.deposit - s.known.redeemed[1]).toString(),
    status: "closed",
    vouchers: 2,
    sessionKey: lc(A.service),
    sessionKeySpendingCap: parseEther("0.05").toString(),
  });
  expect(ch.channel.redeemed).to.equal(onChainChannel.redeemed.toString());
  expect(ch.channel.deposit).to.equal(onChainChannel.deposit.toString());
  expect(ch.channel.sessionKeys.totalCount).to.equal(1);
  expect(ch.channel.redemptions.items.map((r: any) => [r.signer, r.paid, r.redeemedTotal])).to.deep.equal([
    [lc(A.fan1), s.known.redeemed[0].toString(), s.known.redeemed[0].toString()],
    [lc(A.service), (s.known.redeemed[1] - s.known.redeemed[0]).toString(), s.known.redeemed[1].toString()],
  ]);

  // ---------------------------------------------------------------- earnings = chain ledger balances; known splits
  const earnings = await all(ix, "earnings", "payee token creatorShare platformFee collaboratorShare refund totalCredited withdrawn contentAccessBalance paymentChannelsBalance");
  for (const payee of s.wallets) {
    for (const token of [native, s.contracts.stable]) {
      const row = earnings.find((e) => e.payee === lc(payee) && e.token === lc(token));
      const ca = (await read(s.contracts.contentAccess, contentAccessAbi, "balanceOf", [payee, token])) as bigint;
      const pc = (await read(s.contracts.channels, paymentChannelsAbi, "balanceOf", [payee, token])) as bigint;
      expect(BigInt(row?.contentAccessBalance ?? 0), `ContentAccess balance ${payee} ${token}`).to.equal(ca);
      expect(BigInt(row?.paymentChannelsBalance ?? 0), `PaymentChannels balance ${payee} ${token}`).to.equal(pc);
      if (row) expect(BigInt(row.totalCredited) - BigInt(row.withdrawn)).to.equal(ca + pc);
    }
  }
  const earningOf = (payee: Address, token: Address = native) => earnings.find((e) => e.payee === lc(payee) && e.token === lc(token));
  const { a1Price, b1Price, a4Price, subscriptionTotal, passMintPrice, redeemed } = s.known;
  const ariaPassMints = passMintPrice * 2n;
  const a1Net = a1Price - fee(a1Price);
  const a1Collab = (a1Net * 2000n) / 10_000n;
  const b1Net = b1Price - fee(b1Price);
  const streamed = redeemed[1];
  // Platform: fees on every sale, pass mint and voucher, plus the whole subscription.
  const platformNative = fee(a1Price) * 2n + fee(b1Price) + fee(ariaPassMints) + fee(parseEther("0.1")) + subscriptionTotal + fee(redeemed[0]) + fee(redeemed[1] - redeemed[0]);
  expect(earningOf(A.treasury)!.platformFee).to.equal(platformNative.toString());
  expect(earningOf(A.treasury, s.contracts.stable)!.platformFee).to.equal(fee(a4Price).toString());
  expect(earningOf(A.aria)!.creatorShare).to.equal(((a1Net - a1Collab) * 2n + (ariaPassMints - fee(ariaPassMints))).toString());
  expect(earningOf(A.aria, s.contracts.stable)!.creatorShare).to.equal((a4Price - fee(a4Price)).toString());
  expect(earningOf(A.collab1)!.collaboratorShare).to.equal((a1Collab * 2n).toString());
  const voucherShare = (paid: bigint) => ((paid - fee(paid)) * 3000n) / 10_000n;
  expect(earningOf(A.collab2)!.collaboratorShare).to.equal(((b1Net * 3000n) / 10_000n + voucherShare(redeemed[0]) + voucherShare(redeemed[1] - redeemed[0])).toString());
  expect(earningOf(A.fan1)!.refund).to.equal((s.known.deposit - streamed).toString());
  expect(earningOf(A.aria)!.withdrawn).to.equal(earningOf(A.aria)!.creatorShare);
  const withdrawals = await all(ix, "withdrawals", "ledger payee token amount", `orderBy: "block"`);
  expect(withdrawals.map((w) => [w.ledger, w.payee])).to.deep.equal([
    ["ContentAccess", lc(A.aria)],
    ["ContentAccess", lc(A.treasury)],
    ["PaymentChannels", lc(A.bex)],
  ]);
  const credits = await ix.graphql(`{ credits(where: { contentId: "${s.content.b1}", ledger: "PaymentChannels" }) { totalCount } passRevenues { totalCount } }`);
  expect(credits.credits.totalCount).to.equal(7); // two vouchers x (fee, collaborator, creator) + the refund
  expect(credits.passRevenues.totalCount).to.equal(2);

  // ---------------------------------------------------------------- backups = chain history
  const backups = await all(ix, "backups", "creator index anchoredBy sha256Digest size trigger triggerName milestoneValue pieceCidString", `orderBy: "block"`);
  expect(backups.map((b) => [b.creator, b.index, b.anchoredBy, b.triggerName])).to.deep.equal([
    [lc(A.aria), "0", lc(A.aria), "manual"],
    [lc(A.aria), "1", lc(A.service), "followerMilestone"],
    [lc(A.bex), "0", lc(A.bex), "quarterly"],
  ]);
  for (const b of backups) {
    const snap = await read(s.contracts.backups, backupRegistryAbi, "backupAt", [b.creator, BigInt(b.index)]);
    expect(b.sha256Digest).to.equal(snap.sha256Digest);
    expect(b.size).to.equal(snap.size.toString());
  }
  expect(backups[1].milestoneValue).to.equal("1000");
  const delegates = await all(ix, "backupDelegates", "creator delegate allowed");
  expect(delegates).to.deep.equal([{ creator: lc(A.aria), delegate: lc(A.service), allowed: true }]);

  // ---------------------------------------------------------------- platform state and daily totals
  const platform = await ix.graphql(`{ platform(id: "ContentAccess") { treasury platformFeeBps creatorRegistry paused } paymentTokens(orderBy: "id") { items { id allowed subscriptionPrice } } }`);
  expect(platform.platform).to.deep.equal({ treasury: lc(A.treasury), platformFeeBps: 300, creatorRegistry: lc(s.contracts.registry), paused: false });
  expect(platform.paymentTokens.items).to.deep.equal(
    [
      { id: native, allowed: true, subscriptionPrice: parseEther("0.01").toString() },
      { id: lc(s.contracts.stable), allowed: true, subscriptionPrice: "5000000" },
    ].sort((x, y) => (x.id < y.id ? -1 : 1)),
  );
  const stats = await all(ix, "dailyStats", "creatorsLaunched contentsRegistered purchases subscriptions passesMinted coinTransfers passTransfers channelsOpened channelsClosed vouchersRedeemed backupsAnchored withdrawals");
  const total = (k: string) => stats.reduce((n, r) => n + r[k], 0);
  expect({
    creatorsLaunched: total("creatorsLaunched"),
    contentsRegistered: total("contentsRegistered"),
    purchases: total("purchases"),
    subscriptions: total("subscriptions"),
    passesMinted: total("passesMinted"),
    passTransfers: total("passTransfers"),
    coinTransfers: total("coinTransfers"),
    channelsOpened: total("channelsOpened"),
    channelsClosed: total("channelsClosed"),
    vouchersRedeemed: total("vouchersRedeemed"),
    backupsAnchored: total("backupsAnchored"),
    withdrawals: total("withdrawals"),
  }).to.deep.equal({
    creatorsLaunched: 3,
    contentsRegistered: 7,
    purchases: 4,
    subscriptions: 1,
    passesMinted: 4,
    passTransfers: 1,
    coinTransfers: 11, // 6 launch mints, a transfer, a reserve hand-out, a fan transfer, 2 hand-outs of Cy
    channelsOpened: 1,
    channelsClosed: 1,
    vouchersRedeemed: 2,
    backupsAnchored: 3,
    withdrawals: 3,
  });
  const volumes = await all(ix, "dailyVolumes", "token purchaseVolume subscriptionVolume passMintVolume streamingVolume platformFees refunds");
  const vsum = (token: string, k: string) => volumes.filter((v) => v.token === lc(token)).reduce((n, v) => n + BigInt(v[k]), 0n);
  expect(vsum(native, "purchaseVolume")).to.equal(a1Price * 2n + b1Price);
  expect(vsum(native, "subscriptionVolume")).to.equal(subscriptionTotal);
  expect(vsum(native, "passMintVolume")).to.equal(ariaPassMints + parseEther("0.1"));
  expect(vsum(native, "streamingVolume")).to.equal(streamed);
  expect(vsum(native, "platformFees")).to.equal(platformNative);
  expect(vsum(s.contracts.stable, "purchaseVolume")).to.equal(a4Price);

  // ---------------------------------------------------------------- access query = ContentAccess.accessOf for every wallet x content
  await expectAccessMatchesChain(ix, chain, s);
}

/** /api/access/:wallet agrees with ContentAccess.accessOf for every wallet and content of the scenario. */
export async function expectAccessMatchesChain(ix: IndexerProcess, chain: LocalChain, s: ScenarioResult): Promise<number> {
  const block = await chain.publicClient.getBlock();
  const at = block.timestamp + 1n; // the next block's earliest timestamp
  let granted = 0;
  for (const wallet of s.wallets) {
    const res = await ix.get(`/api/access/${wallet}?at=${at}`);
    expect(res.status).to.equal(200);
    const byId = new Map<string, any>(res.body.items.map((i: any) => [i.contentId, i]));
    for (const [label, contentId] of Object.entries(s.content) as [string, Hex][]) {
      const [reason, expiresAt] = (await chain.publicClient.readContract({
        address: s.contracts.contentAccess,
        abi: contentAccessAbi,
        functionName: "accessOf",
        args: [wallet, contentId],
      })) as readonly [number, bigint];
      const item = byId.get(contentId);
      const want = REASONS[reason];
      expect(item?.reason ?? "none", `access of ${wallet} to ${label}`).to.equal(want);
      if (want === "subscription" || want === "purchase") expect(item.expiresAt).to.equal(expiresAt.toString());
      if (want !== "none") granted++;
    }
  }
  return granted;
}

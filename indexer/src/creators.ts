/** CreatorRegistry events and the coin / pass clones it announces (factory pattern). */
import { ponder, type Context } from "ponder:registry";
import { coinHolding, creator, creatorToken, passHolding, passToken, tokenTransfer } from "ponder:schema";
import { countDaily } from "./lib/daily";
import { lc, ZERO_ADDRESS } from "./lib/util";

ponder.on("CreatorRegistry:CreatorLaunched", async ({ event, context }) => {
  const { coinParams, passParams } = event.args;
  const id = lc(event.args.creator);
  const coin = lc(event.args.coin);
  const pass = lc(event.args.pass);
  await context.db.insert(creator).values({
    id,
    coin,
    pass,
    profileUri: event.args.profileURI,
    coinName: coinParams.name,
    coinSymbol: coinParams.symbol,
    coinSupply: coinParams.supply,
    coinCreatorAllocation: coinParams.creatorAllocation,
    coinReserveDistributed: 0n,
    passName: passParams.name,
    passSymbol: passParams.symbol,
    passMaxSupply: passParams.maxSupply,
    passMintPrice: passParams.mintPrice,
    passMintEnabled: passParams.mintEnabled,
    passRoyaltyBps: passParams.royaltyBps,
    passMetadataUri: null,
    launchBlock: event.block.number,
    launchTimestamp: event.block.timestamp,
    launchTx: event.transaction.hash,
    updatedBlock: event.block.number,
  });
  await context.db.insert(creatorToken).values([
    { id: coin, creator: id, kind: "coin" },
    { id: pass, creator: id, kind: "pass" },
  ]);
  await countDaily(context.db, event.block.timestamp, "creatorsLaunched");
});

ponder.on("CreatorRegistry:ProfileUpdated", async ({ event, context }) => {
  await context.db
    .update(creator, { id: lc(event.args.creator) })
    .set({ profileUri: event.args.profileURI, updatedBlock: event.block.number });
});

/** The creator of a coin or pass clone, recorded when CreatorLaunched announced it. */
async function creatorOf(db: Context["db"], token: string) {
  const row = await db.find(creatorToken, { id: lc(token) });
  if (!row) throw new Error(`token ${token} was not announced by CreatorLaunched`);
  return row.creator;
}

ponder.on("CreatorCoin:Transfer", async ({ event, context }) => {
  const coin = lc(event.log.address);
  const from = lc(event.args.from);
  const to = lc(event.args.to);
  const { value } = event.args;
  const owner = await creatorOf(context.db, coin);
  const block = event.block.number;
  if (from !== ZERO_ADDRESS) {
    await context.db
      .update(coinHolding, { coin, holder: from })
      .set((row) => ({ balance: row.balance - value, updatedBlock: block }));
  }
  if (to !== ZERO_ADDRESS) {
    await context.db
      .insert(coinHolding)
      .values({ coin, holder: to, creator: owner, balance: value, updatedBlock: block })
      .onConflictDoUpdate((row) => ({ balance: row.balance + value, updatedBlock: block }));
  }
  await context.db.insert(tokenTransfer).values({
    id: event.id,
    token: coin,
    kind: "coin",
    creator: owner,
    from,
    to,
    value,
    block,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
  await countDaily(context.db, event.block.timestamp, "coinTransfers");
});

ponder.on("CreatorCoin:ReserveDistributed", async ({ event, context }) => {
  const owner = await creatorOf(context.db, event.log.address);
  await context.db
    .update(creator, { id: owner })
    .set((row) => ({ coinReserveDistributed: row.coinReserveDistributed + event.args.amount, updatedBlock: event.block.number }));
});

ponder.on("CreatorPass:Transfer", async ({ event, context }) => {
  const pass = lc(event.log.address);
  const from = lc(event.args.from);
  const to = lc(event.args.to);
  const { tokenId } = event.args;
  const owner = await creatorOf(context.db, pass);
  const block = event.block.number;
  if (from !== ZERO_ADDRESS) {
    await context.db
      .update(passHolding, { pass, holder: from })
      .set((row) => ({ count: row.count - 1n, updatedBlock: block }));
  }
  if (to !== ZERO_ADDRESS) {
    await context.db
      .insert(passHolding)
      .values({ pass, holder: to, creator: owner, count: 1n, updatedBlock: block })
      .onConflictDoUpdate((row) => ({ count: row.count + 1n, updatedBlock: block }));
  }
  if (from === ZERO_ADDRESS) {
    await context.db.insert(passToken).values({
      pass,
      tokenId,
      creator: owner,
      owner: to,
      mintedBlock: block,
      mintedTimestamp: event.block.timestamp,
      transfers: 0,
    });
    await countDaily(context.db, event.block.timestamp, "passesMinted");
  } else {
    await context.db
      .update(passToken, { pass, tokenId })
      .set((row) => ({ owner: to, transfers: row.transfers + 1 }));
    await countDaily(context.db, event.block.timestamp, "passTransfers");
  }
  await context.db.insert(tokenTransfer).values({
    id: event.id,
    token: pass,
    kind: "pass",
    creator: owner,
    from,
    to,
    value: tokenId,
    block,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
});

ponder.on("CreatorPass:MintConfigUpdated", async ({ event, context }) => {
  const owner = await creatorOf(context.db, event.log.address);
  await context.db.update(creator, { id: owner }).set({
    passMintPrice: event.args.mintPrice,
    passMintEnabled: event.args.mintEnabled,
    updatedBlock: event.block.number,
  });
});

ponder.on("CreatorPass:MetadataURIUpdated", async ({ event, context }) => {
  const owner = await creatorOf(context.db, event.log.address);
  await context.db
    .update(creator, { id: owner })
    .set({ passMetadataUri: event.args.uri, updatedBlock: event.block.number });
});

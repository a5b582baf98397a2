/**
 * Crash safety: `ponder start` killed with SIGKILL in the middle of its backfill and started again
 * on the same PGlite directory ends with exactly the tables of an uninterrupted run.
 */
import { expect } from "chai";
import { startIndexer, startLocalChain, type IndexerProcess, type LocalChain } from "./harness.ts";
import { runScenario, type ScenarioResult } from "./scenario.ts";
import { generateLoad, type LoadResult } from "./load.ts";
import { dumpTables, expectAccessMatchesChain } from "./expect.ts";
import { creatorCoinAbi } from "@streamvault/lib/deployments/abis.ts";

describe("indexer crash recovery (PGlite)", function () {
  this.timeout(300_000);
  let chain: LocalChain;
  let s: ScenarioResult;
  let load: LoadResult;
  let head: bigint;
  const running: IndexerProcess[] = [];

  before(async function () {
    chain = await startLocalChain();
    s = await runScenario(chain);
    // ~6,000 events, then enough empty blocks that all of it lies in the finalized (backfill) range.
    load = await generateLoad(chain, { txs: 30, recipientsPerTx: 100, passAirdrops: 50 });
    await chain.rpc("anvil_mine", ["0x100"]);
    head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  });

  after(async function () {
    for (const ix of running) await ix.stop();
    await chain?.stop();
  });

  it("restarts after kill -9 mid-backfill and ends identical to an uninterrupted run", async function () {
    const reference = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir });
    running.push(reference);
    await reference.waitReady();
    await reference.waitForBlock(head, 60_000);
    const expected = await dumpTables(reference);
    // PGlite with INDEXER_SQL unset: SQL over HTTP is off, saying why and how to turn it on.
    const unset = await reference.get(`/sql/db?sql=${encodeURIComponent(JSON.stringify({ json: { sql: "select count(*) from credit a, credit b", params: [] } }))}`);
    expect(unset.status).to.equal(404);
    expect(unset.body.error).to.equal("SQL_DISABLED");
    expect(unset.body.message).to.include("PGlite").and.include("INDEXER_SQL=on").and.include("DATABASE_URL");
    await reference.stop();
    expect(expected.tokenTransfers!.length).to.be.greaterThan(3_000);

    // Same chain, a fresh database: kill the process while the backfill is still running.
    const first = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir });
    running.push(first);
    let killedAt = -1;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const status = await first.get("/status").catch(() => ({ status: 0, body: null }));
      const block = status.status === 200 ? (status.body?.streamvault?.block.number ?? 0) : 0;
      if (block > 0) {
        const ready = await first.get("/ready");
        expect(ready.status, "the backfill finished before it could be interrupted").to.equal(503);
        killedAt = block;
        await first.kill();
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(killedAt).to.be.greaterThan(0);
    expect(killedAt).to.be.lessThan(Number(load.lastBlock));

    // The restarted one also runs with SQL over HTTP turned off (GraphQL, which the dump reads, stays).
    const second = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, dataDir: first.dataDir, schema: first.schema, env: { INDEXER_SQL: "off" } });
    running.push(second);
    await second.waitReady();
    await second.waitForBlock(head, 60_000);
    expect(second.log()).to.not.match(/"level":50/);
    const actual = await dumpTables(second);
    for (const table of Object.keys(expected)) {
      expect(actual[table], `${table} after the restart`).to.deep.equal(expected[table]);
    }
    // And the uninterrupted run itself agrees with the chain.
    const holdings = actual.coinHoldings as { coin: string; holder: string; balance: string }[];
    const loadHoldings = holdings.filter((h) => h.coin === load.coin.toLowerCase());
    expect(loadHoldings.filter((h) => BigInt(h.balance) > 0n)).to.have.length(load.recipients.length + 2); // + creator and reserve
    for (const i of [0, 1, 99, 1234, load.recipients.length - 1]) {
      const holder = load.recipients[i]!;
      const onChain = await chain.publicClient.readContract({ address: load.coin, abi: creatorCoinAbi, functionName: "balanceOf", args: [holder] });
      expect(loadHoldings.find((h) => h.holder === holder.toLowerCase())?.balance).to.equal(onChain.toString());
    }
    expect((actual.passTokens as unknown[]).length).to.equal(4 + 50);
    expect(await expectAccessMatchesChain(second, chain, s)).to.be.greaterThan(10);
    const sqlParam = encodeURIComponent(JSON.stringify({ json: { sql: "select count(*) from token_transfer", params: [] } }));
    for (const path of ["/sql/db", "/sql/live"]) {
      const res = await second.get(`${path}?sql=${sqlParam}`);
      expect(res.status, path).to.equal(404);
      expect(res.body.error).to.equal("SQL_DISABLED");
      expect(res.body.message).to.include("INDEXER_SQL=off").and.include("POST /graphql");
    }
  });
});

/**
 * The same scenario with Postgres as the indexer's database. Registered only when DATABASE_URL
 * is set (e.g. postgresql://sv_indexer:sv_indexer@127.0.0.1:5432/sv_indexer); each run writes to
 * its own schema and drops it afterwards.
 */
import { expect } from "chai";
import pg from "pg";
import { startIndexer, startLocalChain, type IndexerProcess, type LocalChain } from "./harness.ts";
import { runScenario, type ScenarioResult } from "./scenario.ts";
import { expectIndexMatchesScenario } from "./expect.ts";

const databaseUrl = process.env.DATABASE_URL;

if (databaseUrl) {
  describe("indexer (Postgres)", function () {
    this.timeout(180_000);
    let chain: LocalChain;
    let s: ScenarioResult;
    let ix: IndexerProcess;
    const schema = `sv_indexer_test_${process.pid}_${Date.now() % 1_000_000}`;

    before(async function () {
      chain = await startLocalChain();
      try {
        s = await runScenario(chain);
        ix = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, databaseUrl, schema });
        await ix.waitReady();
        await ix.waitForBlock(s.lastBlock, 60_000);
      } catch (error) {
        if (ix) console.error(ix.log().slice(-3000));
        throw error;
      }
    });

    after(async function () {
      await ix?.stop();
      await chain?.stop();
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    });

    it("indexes every table into Postgres as the chain and the scenario say", async function () {
      await expectIndexMatchesScenario(ix, chain, s);
    });

    it("writes the tables to the schema it was given", async function () {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schema}".content`);
        expect(rows[0].n).to.equal(7);
      } finally {
        await client.end();
      }
    });
  });
}

/**
 * The same scenario with Postgres as the indexer's database. Registered only when TEST_DATABASE_URL
 * is set (e.g. postgresql://sv_indexer:sv_indexer@127.0.0.1:5432/sv_indexer, a role with
 * CREATEDB); each run creates a database of its own and drops it afterwards.
 */
import { expect } from "chai";
import pg from "pg";
import { scratchDatabase, type IndexerProcess, type LocalChain } from "./harness.ts";
import { indexedScenario, type ScenarioResult } from "./scenario.ts";
import { expectIndexMatchesScenario } from "./expect.ts";

const databaseUrl = process.env.TEST_DATABASE_URL;

if (databaseUrl) {
  describe("indexer (Postgres)", function () {
    this.timeout(180_000);
    let chain: LocalChain;
    let s: ScenarioResult;
    let ix: IndexerProcess;
    let database: Awaited<ReturnType<typeof scratchDatabase>>;
    const schema = "streamvault";

    before(async function () {
      database = await scratchDatabase(databaseUrl);
      ({ chain, s, ix } = await indexedScenario({ databaseUrl: database.url, schema }));
    });

    after(async function () {
      await ix?.stop();
      await chain?.stop();
      await database?.drop();
    });

    it("indexes every table into Postgres as the chain and the scenario say", async function () {
      await expectIndexMatchesScenario(ix, chain, s);
    });

    it("writes the tables to the schema it was given", async function () {
      const client = new pg.Client({ connectionString: database.url });
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

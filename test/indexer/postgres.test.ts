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
import { creatorRegistryAbi } from "@streamvault/lib/deployments/abis.ts";

const databaseUrl = process.env.TEST_DATABASE_URL;

if (databaseUrl) {
  describe("indexer (Postgres)", function () {
    this.timeout(180_000);
    let chain: LocalChain;
    let s: ScenarioResult;
    let ix: IndexerProcess;
    let database: Awaited<ReturnType<typeof scratchDatabase>>;
    const schema = "streamvault";
    const SQL_TIMEOUT_MS = 500;

    before(async function () {
      database = await scratchDatabase(databaseUrl);
      // A short /sql statement timeout, so the test below meets it (the default is 5 s).
      ({ chain, s, ix } = await indexedScenario({ databaseUrl: database.url, schema, env: { INDEXER_SQL_TIMEOUT_MS: String(SQL_TIMEOUT_MS) } }));
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

    it("refuses a five-table cross join before it runs; stops a cheap-looking query once at INDEXER_SQL_TIMEOUT_MS; keeps indexing", async function () {
      const ask = async (text: string, params: unknown[] = []) => {
        const res = await fetch(`${ix.url}/sql/db?sql=${encodeURIComponent(JSON.stringify({ json: { sql: text, params } }))}`);
        const body = await res.text();
        return { status: res.status, body, json: res.headers.get("content-type")?.includes("json") ? JSON.parse(body) : undefined };
      };
      const cross = await ask(`select count(*) from credit a, credit b, credit c, credit d, credit e`);
      expect(cross.status, cross.body).to.equal(400);
      expect(cross.json.error).to.equal("SQL_TOO_COSTLY");
      // Each level turns every "a" into ten: ~300 MB built from one address, at a planner cost of
      // almost nothing (~2-3 s measured on this Postgres). The statement timeout stops it.
      let grown = "id";
      for (let i = 0; i < 8; i++) grown = `replace(${grown}, 'a', 'aaaaaaaaaa')`;
      const slow = await ask(`select length(${grown}) as n from creator where id = $1`, [s.accounts.aria.toLowerCase()]);
      expect(slow.status, slow.body).to.equal(503);
      expect(slow.json.error).to.equal("SQL_TIMEOUT");
      expect(slow.json.message).to.include(`${SQL_TIMEOUT_MS} ms`).and.include("INDEXER_SQL_TIMEOUT_MS");
      // Ponder retries failed read transactions up to 9 times (~70 s of backoff, each try running
      // the query again); a cancelled /sql query must run once.
      const cancelled = ix.log().split("\n").filter((line) => line.includes("canceling statement due to statement timeout"));
      expect(cancelled.length, cancelled.join("\n").slice(0, 2000)).to.be.at.most(1);
      // A query with a bad value is not retried either: answered at once with the database's reason.
      const badValue = await ask(`select id from creator where launch_block = $1`, ["soon"]);
      expect(badValue.status).to.equal(400);
      expect(badValue.body).to.include("invalid input syntax");
      expect(ix.log().split("\n").filter((line) => line.includes("Failed database query") && line.includes("invalid input syntax")).length).to.be.at.most(1);
      // The same shape with fewer levels answers; so do keyed queries, and indexing goes on.
      const quick = await ask(`select length(replace(id, 'a', 'aaaaaaaaaa')) as n from creator where id = $1`, [s.accounts.aria.toLowerCase()]);
      expect(quick.status, quick.body).to.equal(200);
      expect(quick.json.rows).to.deep.equal([{ n: 42 + 3 * 9 }]); // three "a"s in Aria's address
      const cy = chain.accounts[4]!;
      const hash = await chain.wallet(cy).writeContract({ address: s.contracts.registry, abi: creatorRegistryAbi, functionName: "setProfileURI", args: ["ipfs://cy-pg"] });
      const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
      await ix.waitForBlock(receipt.blockNumber);
      const keyed = await ask(`select profile_uri from creator where id = $1`, [s.accounts.cy.toLowerCase()]);
      expect(keyed.json.rows).to.deep.equal([{ profile_uri: "ipfs://cy-pg" }]);
    });
  });
}

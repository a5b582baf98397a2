/**
 * The same scenario with Postgres as the indexer's database. Registered only when TEST_DATABASE_URL
 * is set (e.g. postgresql://sv_indexer:sv_indexer@127.0.0.1:5432/sv_indexer, a role with
 * CREATEDB); each run creates a database of its own and drops it afterwards.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import pg from "pg";
import { INDEXER_DIR, scratchDatabase, startIndexer, type IndexerProcess, type LocalChain } from "./harness.ts";
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

    it("answers planned GraphQL queries byte for byte as Ponder's resolvers do (a replica with GRAPHQL_PLANS=off), and plans the documented ones", async function () {
      const replica = await startIndexer({ rpcUrl: chain.rpcUrl, deploymentsDir: chain.deploymentsDir, databaseUrl: database.url, schema, command: "serve", env: { GRAPHQL_PLANS: "off" } });
      try {
        await replica.waitReady(60_000);
        const readme = readFileSync(join(INDEXER_DIR, "README.md"), "utf8");
        const documented = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim()).filter((q) => !q.includes("<"));
        expect(documented.length).to.be.at.least(20);
        const aria = s.accounts.aria;
        const nobody = "0x0000000000000000000000000000000000000001";
        const edges = [
          // every scalar kind (hex, integer, text, BigInt, boolean, JSON), all page parts, in an unusual order
          `{ contents { pageInfo { endCursor hasPreviousPage startCursor hasNextPage } items { collaborators inSubscription price tierName tier creator id } totalCount } }`,
          // aliases at every level; two lists at once; a limit that leaves a next page
          `{ a: contents(limit: 2, orderBy: "price", orderDirection: "desc") { info: pageInfo { more: hasNextPage last: endCursor } rows: items { key: id price } } b: creators(limit: 1) { n: totalCount } }`,
          // where operators: _in, _gt, _not, OR/AND, text and hex matches (hex filters lowercase what they are given)
          `{ contents(where: { tier_in: [1, 2], price_gt: "0" }, orderBy: "registeredBlock") { totalCount items { id tier price } } }`,
          `{ contents(where: { OR: [{ tier: 0 }, { inSubscription: true }], AND: [{ price_not: "1" }] }) { items { id } pageInfo { startCursor } } }`,
          `{ contents(where: { creator: "${aria}" }, orderBy: "registeredBlock", orderDirection: "DESC") { items { id registeredBlock } pageInfo { endCursor } } }`,
          `{ creators(where: { coinSymbol_starts_with_nocase: "a", profileUri_contains: "ipfs" }) { items { id coinSymbol } } }`,
          `{ tokenTransfers(where: { from_not: "0x0000000000000000000000000000000000000000", value_gte: "1" }, orderBy: "value", limit: 5) { totalCount items { from to value } pageInfo { hasNextPage endCursor } } }`,
          // nothing matches; a zero limit; a row that is not there; a row asked for in mixed case
          `{ contents(where: { creator: "${nobody}" }) { totalCount items { id } pageInfo { hasNextPage startCursor endCursor } } }`,
          `{ contents(limit: 0) { totalCount items { id } pageInfo { hasNextPage endCursor } } }`,
          `{ creator(id: "${nobody}") { id coin } creators(limit: 1) { items { id } } }`,
          `{ creator(id: "${aria}") { id coin coinSymbol launchBlock passMintPrice } }`,
          `query Named { platform(id: "ContentAccess") { treasury platformFeeBps paused } }`,
          // relations: a page per row inside a list (with a row of its own inside), a row then a count-only page, pages of pages
          `{ creators { items { id contents(limit: 2, orderBy: "price", orderDirection: "desc") { totalCount items { id price by: creatorProfile { coinSymbol launchBlock } } pageInfo { hasNextPage endCursor } } } } }`,
          `{ contentRevisions(limit: 5, orderBy: "block") { items { id content { id tierName grants(where: { expiresAt_gt: "0" }) { totalCount } } } } }`,
          `{ channels { items { id redemptions(limit: 1) { items { paid channel { status } } pageInfo { hasNextPage startCursor } } sessionKeys { totalCount } } } }`,
          `{ creator(id: "${aria}") { liveStreams { items { id } } backups(orderBy: "index", orderDirection: "desc", limit: 1) { items { index } } coinHolders(where: { balance_gt: "0" }, orderBy: "balance", orderDirection: "desc", limit: 3) { totalCount items { holder balance creatorProfile { id } } } } }`,
          // not planned (Ponder's resolvers answer them): __typename, a cursor, an offset, a fragment, a relation, over the limit, an unknown orderBy
          `{ __typename contents(limit: 1) { items { id } } }`,
          `{ contents(limit: 1, offset: 1) { items { id } } }`,
          `{ contents(limit: 1) { items { ...f } } } fragment f on content { id }`,
          `{ contents(limit: 1001) { items { id } } }`,
          `{ contents(orderBy: "nope") { items { id } } }`,
        ];
        const ask = async (url: string, query: string, operationName?: string) => {
          const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, operationName }) });
          return { status: res.status, body: await res.text(), by: res.headers.get("x-graphql-executor") };
        };
        const planned: string[] = [];
        for (const query of [...documented, ...edges]) {
          const [fast, reference] = await Promise.all([ask(ix.url, query, query.startsWith("query Named") ? "Named" : undefined), ask(replica.url, query, query.startsWith("query Named") ? "Named" : undefined)]);
          expect(reference.by, query).to.equal("resolvers");
          expect(fast.status, query).to.equal(reference.status);
          expect(fast.body, query).to.equal(reference.body);
          if (fast.by === "plan") planned.push(query);
        }
        // A page reached with the planned endCursor is the same page through both.
        const first = JSON.parse((await ask(ix.url, `{ contents(limit: 2, orderBy: "registeredBlock") { pageInfo { endCursor } } }`)).body);
        const next = `{ contents(limit: 2, orderBy: "registeredBlock", after: "${first.data.contents.pageInfo.endCursor}") { items { id } } }`;
        expect((await ask(ix.url, next)).body).to.equal((await ask(replica.url, next)).body).and.include('"id"');
        // The planner must actually answer the common shapes, or the comparison above proves nothing.
        const notPlanned = documented.filter((q) => !planned.includes(q));
        expect(notPlanned, "documented queries not planned").to.deep.equal([]);
        expect(edges.filter((q) => planned.includes(q)).length).to.equal(edges.length - 5);
        for (const q of edges.slice(-5)) expect(planned, q).to.not.include(q);
      } finally {
        await replica.stop();
      }
    });
  });
}

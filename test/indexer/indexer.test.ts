/**
 * The indexer end to end: anvil on a free port, StreamVault deployed, a scripted history, then
 * `ponder start` (PGlite in a temp dir) as a child process; every table, the access query and
 * the HTTP API are checked against the chain and the scenario's own numbers.
 */
import { expect } from "chai";
import { parseEther, zeroAddress, type Account } from "viem";
import { creatorRegistryAbi, liveStreamsAbi } from "@streamvault/lib/deployments/abis.ts";
import { LIVE_STATUS_NAMES } from "@streamvault/lib/deployments/contract-types.ts";
import type { IndexerProcess, LocalChain } from "./harness.ts";
import { indexedScenario, type ScenarioResult } from "./scenario.ts";
import { all, expectAccessMatchesChain, expectIndexMatchesScenario } from "./expect.ts";

describe("indexer (PGlite)", function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let s: ScenarioResult;
  let ix: IndexerProcess;

  before(async function () {
    // SQL over HTTP is off on PGlite unless asked (sql-guard.ts); this suite checks it end to end.
    ({ chain, s, ix } = await indexedScenario({ env: { INDEXER_SQL: "on" } }));
  });

  after(async function () {
    await ix?.stop();
    await chain?.stop();
  });

  it("serves /health and /ready with 200 once backfill is done, and open CORS", async function () {
    expect((await ix.get("/health")).status).to.equal(200);
    expect((await ix.get("/ready")).status).to.equal(200);
    const res = await fetch(`${ix.url}/graphql`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    expect(res.headers.get("access-control-allow-origin")).to.equal("*");
    const status = (await ix.get("/status")).body;
    expect(status.streamvault.id).to.equal(31337);
    expect(status.streamvault.block.number).to.be.at.least(Number(s.lastBlock));
  });

  it("indexes every table as the chain and the scenario say", async function () {
    await expectIndexMatchesScenario(ix, chain, s);
  });

  it("pages with cursors both ways, filters, orders and counts", async function () {
    const first = await ix.graphql(`{ contents(limit: 3, orderBy: "registeredBlock", orderDirection: "desc") { totalCount items { id registeredBlock } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`);
    expect(first.contents.totalCount).to.equal(7);
    expect(first.contents.items).to.have.length(3);
    expect(first.contents.pageInfo).to.include({ hasNextPage: true, hasPreviousPage: false });
    const blocks = first.contents.items.map((i: any) => Number(i.registeredBlock));
    expect(blocks).to.deep.equal([...blocks].sort((a, b) => b - a));
    const next = await ix.graphql(`{ contents(limit: 3, orderBy: "registeredBlock", orderDirection: "desc", after: "${first.contents.pageInfo.endCursor}") { items { id } pageInfo { hasPreviousPage startCursor } } }`);
    expect(next.contents.pageInfo.hasPreviousPage).to.equal(true);
    const seen = [...first.contents.items, ...next.contents.items].map((i: any) => i.id);
    expect(new Set(seen).size).to.equal(6);
    const back = await ix.graphql(`{ contents(limit: 3, orderBy: "registeredBlock", orderDirection: "desc", before: "${next.contents.pageInfo.startCursor}") { items { id } } }`);
    expect(back.contents.items.map((i: any) => i.id)).to.deep.equal(first.contents.items.map((i: any) => i.id));
    const filtered = await ix.graphql(`{ contents(where: { creator: "${s.accounts.aria.toLowerCase()}", tier_in: [1, 2], price_gt: "0" }) { totalCount items { id } } }`);
    expect(filtered.contents.totalCount).to.equal(2); // a1 and a4
    expect(filtered.contents.items.map((i: any) => i.id).sort()).to.deep.equal([s.content.a1, s.content.a4].sort());
    const nested = await ix.graphql(`{ creator(id: "${s.accounts.aria.toLowerCase()}") { contents(orderBy: "registeredBlock") { totalCount } coinHolders(where: { balance_gt: "0" }) { totalCount } backups { totalCount } } }`);
    expect(nested.creator).to.deep.equal({ contents: { totalCount: 4 }, coinHolders: { totalCount: 4 }, backups: { totalCount: 2 } });
  });

  it("answers /api/access/:wallet with reasons and expiries", async function () {
    const at = (await chain.publicClient.getBlock()).timestamp + 1n;
    const fan1 = (await ix.get(`/api/access/${s.accounts.fan1}?at=${at}`)).body;
    const reasons = Object.fromEntries(fan1.items.map((i: any) => [i.contentId, i.reason]));
    expect(reasons).to.deep.equal({
      [s.content.a1]: "purchase",
      [s.content.a2]: "pass",
      [s.content.a3]: "free",
      [s.content.a4]: "purchase", // 50 ARIA left (500 - 450) is below the 100 the coin rule asks
      [s.content.c1]: "coin",
    });
    const a1 = fan1.items.find((i: any) => i.contentId === s.content.a1);
    expect(a1.expiresAt).to.equal(a1.reasons[0].expiresAt);
    const fan2 = (await ix.get(`/api/access/${s.accounts.fan2}?at=${at}&includeFree=false`)).body;
    expect(fan2.subscriptionExpiresAt).to.be.a("string");
    const fan2Reasons = Object.fromEntries(fan2.items.map((i: any) => [i.contentId, i.reasons.map((r: any) => r.reason)]));
    // 650 ARIA opens a4; the subscription opens a1 and b2; a bought b1; a pass opens a2; free a3 left out.
    expect(fan2Reasons).to.deep.equal({
      [s.content.a1]: ["subscription"],
      [s.content.a2]: ["pass"],
      [s.content.a4]: ["coin"],
      [s.content.b1]: ["purchase"],
      [s.content.b2]: ["subscription"],
    });
    const one = (await ix.get(`/api/access/${s.accounts.aria}?contentId=${s.content.a3},${s.content.b1}&at=${at}`)).body;
    expect(one.items.map((i: any) => [i.contentId, i.reason])).to.deep.equal([[s.content.a3, "creator"]]);
    expect(one.items[0].reasons.map((r: any) => r.reason)).to.deep.equal(["creator", "free"]);
    // After every expiry only the unconditional reasons remain.
    const later = (await ix.get(`/api/access/${s.accounts.fan2}?at=${at + 400n * 86_400n}&includeFree=false`)).body;
    expect(later.items.map((i: any) => i.reason).sort()).to.deep.equal(["coin", "pass"]);
  });

  it("serves the dashboard, content and error JSON endpoints", async function () {
    const summary = await ix.get(`/api/creators/${s.accounts.aria}/summary`);
    expect(summary.status).to.equal(200);
    expect(summary.body.contents).to.deep.equal({ total: 4, byTier: { free: 1, premium: 2, exclusive: 1 } });
    expect(summary.body.pass).to.include({ holders: 3, minted: 3, mintRevenue: (s.known.passMintPrice * 2n).toString(), mintPayments: 1 });
    expect(summary.body.coin.holders).to.equal(4);
    expect(summary.body.sales).to.deep.include({ token: zeroAddress, purchases: 2, buyers: 1, volume: (s.known.a1Price * 2n).toString() });
    expect(summary.body.backups.count).to.equal(2);
    expect(summary.body.backups.latest.index).to.equal("1");
    expect(summary.body.earnings.map((e: any) => e.token)).to.include(zeroAddress);

    const bex = (await ix.get(`/api/creators/${s.accounts.bex}/summary`)).body;
    expect(bex.streaming.channels).to.deep.equal({ closed: 1 });
    expect(bex.streaming.byToken).to.deep.equal([{ token: zeroAddress, vouchers: 2, paid: s.known.redeemed[1].toString() }]);

    const b1 = await ix.get(`/api/contents/${s.content.b1}`);
    expect(b1.status).to.equal(200);
    expect(b1.body.content.price).to.equal(s.known.b1Price.toString());
    // The latest of the creator's two StreamPriceSet events (0.0005 then 0.001 ETH per minute).
    expect(b1.body.streamPrice).to.deep.equal({ token: zeroAddress, ratePerMinute: parseEther("0.001").toString() });
    expect(b1.body.collaborators.map((c: any) => c.account)).to.deep.equal([s.accounts.collab2.toLowerCase()]);
    expect(b1.body.revisions.map((r: any) => r.kind)).to.deep.equal(["registered", "collaborators"]);
    expect(b1.body.stats.purchases).to.deep.equal([{ token: zeroAddress, purchases: 1, buyers: 1, volume: s.known.b1Price.toString() }]);
    expect(b1.body.stats.vouchersRedeemed).to.equal(2);
    expect(b1.body.stats.streamed).to.equal(s.known.redeemed[1].toString());
    expect(b1.body.stats.channels).to.deep.equal({ closed: 1 });
    const roles = Object.fromEntries(b1.body.stats.revenue.map((r: any) => [r.role, BigInt(r.amount)]));
    expect(roles.platform + roles.creator + roles.collaborator).to.equal(s.known.b1Price + s.known.redeemed[1]);
    expect(roles.refund).to.equal(s.known.deposit - s.known.redeemed[1]);

    expect((await ix.get(`/api/creators/${s.accounts.fan1}/summary`)).status).to.equal(404);
    expect((await ix.get(`/api/creators/0x1234/summary`)).status).to.equal(400);
    expect((await ix.get(`/api/contents/0x${"ab".repeat(32)}`)).status).to.equal(404);
    expect((await ix.get(`/api/contents/nope`)).status).to.equal(400);
    expect((await ix.get(`/api/access/${s.accounts.fan1}?at=soon`)).status).to.equal(400);
  });

  it("answers SQL over HTTP through @ponder/client, including live queries", async function () {
    const { createClient, sql } = await import("@ponder/client" as string);
    const client = createClient(`${ix.url}/sql`);
    const rows = await client.db.execute(sql`select id, profile_uri from creator order by launch_block`);
    expect(rows.map((r: any) => r.profile_uri)).to.deep.equal(["ipfs://aria-v2", "ipfs://bex", ""]);

    // Live queries push a fresh result whenever a table they read changes (no initial push).
    const updates: string[][] = [];
    const { unsubscribe } = client.live(
      (db: any) => db.execute(sql`select profile_uri from creator order by launch_block`),
      (result: any) => updates.push((result.rows ?? result).map((r: any) => r.profile_uri)),
      (error: Error) => updates.push([`error: ${error.message}`]),
    );
    try {
      const bex = chain.accounts[3]!;
      let uri = "";
      // The SSE stream may take a moment to open: change the profile until an update arrives.
      for (let attempt = 1; attempt <= 4 && !updates.some((u) => u[1] === uri); attempt++) {
        await new Promise((r) => setTimeout(r, 500));
        uri = `ipfs://bex-live-${attempt}`;
        const hash = await chain.wallet(bex).writeContract({ address: s.contracts.registry, abi: creatorRegistryAbi, functionName: "setProfileURI", args: [uri] });
        await chain.publicClient.waitForTransactionReceipt({ hash });
        const deadline = Date.now() + 5_000;
        while (!updates.some((u) => u[1] === uri) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      }
      expect(updates.at(-1)).to.deep.equal(["ipfs://aria-v2", uri, ""]);
      expect(updates.some((u) => u[0]?.startsWith("error"))).to.equal(false);
    } finally {
      unsubscribe();
    }
    const live = await all(ix, "creators", "profileUri", `where: { profileUri_starts_with: "ipfs://bex-live" }`);
    expect(live).to.have.length(1);
  });
  it("refuses GraphQL queries over the depth or cost limit before running them; other clients are unaffected", async function () {
    // contents -> creatorProfile -> contents, four and twelve lists deep (the reported attack:
    // four levels blocked every request for seconds, twelve never answered).
    const nested = (levels: number) => {
      let inner = "id";
      for (let i = 0; i < levels; i++) inner = `contents { items { ${i === 0 ? inner : `creatorProfile { ${inner} }`} } }`;
      return `{ ${inner} }`;
    };
    const post = (query: string, variables?: Record<string, unknown>) =>
      fetch(`${ix.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
    for (const levels of [4, 12]) {
      const [refused, health] = await Promise.all([post(nested(levels)), fetch(`${ix.url}/health`)]);
      expect(refused.status, `${levels} levels`).to.equal(400);
      expect(refused.headers.get("x-api-cache")).to.equal(null); // refused before the cache, nothing ran
      const body = (await refused.json()) as any;
      expect(body.data).to.equal(undefined);
      expect(body.errors[0].extensions.code).to.equal("QUERY_TOO_DEEP");
      expect(body.errors[0].message).to.match(/^Query depth \d+ exceeds the limit of 8 nested fields/);
      expect(health.status).to.equal(200);
    }
    // Every body form GraphQL Yoga reads is checked, not only JSON.
    const asGraphql = await fetch(`${ix.url}/graphql`, { method: "POST", headers: { "content-type": "application/graphql" }, body: nested(4) });
    expect(asGraphql.status).to.equal(400);
    expect(((await asGraphql.json()) as any).errors[0].extensions.code).to.equal("QUERY_TOO_DEEP");
    const form = await fetch(`${ix.url}/graphql`, { method: "POST", body: new URLSearchParams({ query: nested(4) }) });
    expect(form.status).to.equal(400);
    // Another content type is answered 415 saying what to send (Ponder gave an empty 200).
    const unknownType = await fetch(`${ix.url}/graphql`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ query: nested(12) }) });
    expect(unknownType.status).to.equal(415);
    expect(((await unknownType.json()) as any).errors[0].message).to.include("application/json");
    // A query sent as application/graphql still runs when within the limits.
    const plain = await fetch(`${ix.url}/graphql`, { method: "POST", headers: { "content-type": "application/graphql" }, body: `{ creators { totalCount } }` });
    expect(((await plain.json()) as any).data.creators.totalCount).to.equal(3);
    // Within the depth limit, but a million rows: refused by cost, through variables as well.
    const wide = `query($n: Int) { contents(limit: $n) { items { creatorProfile { contents(limit: $n) { items { id } } } } } }`;
    const costly = await post(wide, { n: 1000 });
    expect(costly.status).to.equal(400);
    const costlyBody = (await costly.json()) as any;
    expect(costlyBody.errors[0].extensions.code).to.equal("QUERY_TOO_COSTLY");
    expect(costlyBody.errors[0].message).to.include("exceeds the limit of 10000");
    // The same shape with small pages is answered.
    const small = await post(wide, { n: 5 });
    expect(small.status).to.equal(200);
    const smallBody = (await small.json()) as any;
    expect(smallBody.errors).to.equal(undefined);
    expect(smallBody.data.contents.items).to.have.length(5);
    expect(smallBody.data.contents.items[0].creatorProfile.contents.items.length).to.be.greaterThan(0);
  });

  it("answers a malformed paging cursor with 400 saying to pass back pageInfo's cursor", async function () {
    const page = await ix.graphql(`{ creators(orderBy: "launchBlock", limit: 1) { pageInfo { endCursor } } }`);
    const cursor: string = page.creators.pageInfo.endCursor;
    const cases = [
      `{ creators(after: "not-a-cursor") { items { id } } }`,
      `{ creators(before: "${Buffer.from("{ broken").toString("base64")}") { items { id } } }`,
      // A real cursor of another ordering: it has no profileUri to continue from.
      `{ creators(orderBy: "profileUri", after: "${cursor}") { items { id } } }`,
    ];
    for (const query of cases) {
      const res = await fetch(`${ix.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
      expect(res.status, query).to.equal(400);
      const body = (await res.json()) as any;
      expect(body.errors[0].extensions.code).to.equal("INVALID_CURSOR");
      expect(body.errors[0].message).to.match(/^Invalid cursor in "(after|before)" of creators: pass back pageInfo.endCursor/);
    }
    // The cursor of the same query is still accepted.
    const next = await ix.graphql(`{ creators(orderBy: "launchBlock", limit: 1, after: "${cursor}") { items { id } } }`);
    expect(next.creators.items).to.have.length(1);
  });

  it("answers SQL over HTTP writes and malformed requests with 4xx saying what was wrong", async function () {
    const { createClient, sql } = await import("@ponder/client" as string);
    const client = createClient(`${ix.url}/sql`);
    const refusal = async (query: unknown) => {
      try {
        await client.db.execute(query);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error("the query was run");
    };
    expect(await refusal(sql`delete from creator`)).to.match(/^SQL over HTTP is read-only: .*Refused: DeleteStmt not supported/);
    // Asked again (Ponder's validator then only remembers "Invalid query"), the reason stays.
    expect(await refusal(sql`delete from creator`)).to.include("DeleteStmt not supported");
    expect(await refusal(sql`select 1; update creator set profile_uri = ''`)).to.include("read-only");
    expect(await refusal(sql`selec id from creator`)).to.equal(`Invalid SQL: syntax error at or near "selec" (at character 1).`);

    const raw = async (path: string, sqlText: string | null) => {
      const param = sqlText === null ? "garbage" : JSON.stringify({ json: { sql: sqlText, params: [] } });
      const res = await fetch(`${ix.url}${path}?sql=${encodeURIComponent(param)}`);
      return { status: res.status, text: await res.text() };
    };
    const write = await raw("/sql/db", `insert into creator (id) values ('0x00')`);
    expect(write.status).to.equal(403);
    expect(write.text).to.include("read-only").and.include("InsertStmt not supported");
    expect((await raw("/sql/live", "drop table creator")).status).to.equal(403);
    expect((await raw("/sql/db", "select * from pg_class")).text).to.include("System tables not supported");
    const garbage = await raw("/sql/db", null);
    expect(garbage.status).to.equal(400);
    expect(garbage.text).to.include("encoded by @ponder/client");
    // Reads still work, and nothing was written.
    const rows = await client.db.execute(sql`select count(*)::int as n from creator`);
    expect(rows[0].n).to.equal(3);
  });

  it("refuses a cross join of five tables before it runs (nothing stalls: a new event is indexed right after); keyed SQL still answers", async function () {
    const { createClient, sql } = await import("@ponder/client" as string);
    const client = createClient(`${ix.url}/sql`);
    // 23 credits: 23^5 = 6.4M rows (~1 s of PGlite's only connection, indexing included).
    const cross = `select count(*) from credit a, credit b, credit c, credit d, credit e`;
    // Through @ponder/client: its Error carries the JSON answer.
    let message = "";
    try {
      await client.db.execute(sql.raw(cross));
    } catch (error) {
      message = (error as Error).message;
    }
    const answer = JSON.parse(message);
    expect(answer.error).to.equal("SQL_TOO_COSTLY");
    expect(answer.cost).to.be.greaterThan(answer.maxCost);
    expect(answer.message).to.include("INDEXER_SQL_MAX_COST").and.include("JOIN ... ON").and.include("POST /graphql");
    // Over the live endpoint, and with a LIMIT that does not bound the join below it: refused the same way.
    const encoded = (text: string) => encodeURIComponent(JSON.stringify({ json: { sql: text, params: [] } }));
    for (const [path, text] of [
      ["/sql/live", `select count(*), max(a.amount) from credit a, credit b, credit c, credit d, credit e`],
      ["/sql/db", `select a.id from credit a, credit b, credit c, credit d, credit e where a.amount + e.amount < 0 limit 1`],
    ] as const) {
      const res = await fetch(`${ix.url}${path}?sql=${encoded(text)}`);
      expect(res.status, text).to.equal(400);
      expect(res.headers.get("content-type")).to.include("application/json");
      expect(((await res.json()) as any).error).to.equal("SQL_TOO_COSTLY");
    }
    // Right after the refusals the indexer keeps up with the chain.
    const cy = chain.accounts[4]!;
    const hash = await chain.wallet(cy).writeContract({ address: s.contracts.registry, abi: creatorRegistryAbi, functionName: "setProfileURI", args: ["ipfs://cy-after-sql"] });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    await ix.waitForBlock(receipt.blockNumber);
    const rows = await client.db.execute(sql`select c.profile_uri, count(k.id)::int as contents from creator c left join content k on k.creator = c.id where c.id = ${s.accounts.cy.toLowerCase()} group by c.profile_uri`);
    expect(rows).to.deep.equal([{ profile_uri: "ipfs://cy-after-sql", contents: 1 }]);
  });

  it("reuses GraphQL answers only until the next indexed block", async function () {
    const query = JSON.stringify({ query: `{ creator(id: "${s.accounts.cy.toLowerCase()}") { profileUri } }` });
    const ask = async () => {
      const res = await fetch(`${ix.url}/graphql`, { method: "POST", body: query, headers: { "content-type": "application/json" } });
      return { cache: res.headers.get("x-api-cache"), body: (await res.json()) as any };
    };
    const first = await ask();
    const second = await ask();
    expect(second.cache).to.equal("hit");
    expect(second.body).to.deep.equal(first.body);
    const cy = chain.accounts[4]!;
    const hash = await chain.wallet(cy).writeContract({ address: s.contracts.registry, abi: creatorRegistryAbi, functionName: "setProfileURI", args: ["ipfs://cy-new"] });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    await ix.waitForBlock(receipt.blockNumber);
    const third = await ask();
    expect(third.cache).to.equal("miss");
    expect(third.body.data.creator.profileUri).to.equal("ipfs://cy-new");
    // Errors are never cached.
    const bad = JSON.stringify({ query: "{ nope }" });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${ix.url}/graphql`, { method: "POST", body: bad, headers: { "content-type": "application/json" } });
      expect(res.headers.get("x-api-cache")).to.equal("miss");
      expect(((await res.json()) as any).errors).to.have.length.greaterThan(0);
    }
  });

  it("keeps following the chain: new access shows up live", async function () {
    const before = await expectAccessMatchesChain(ix, chain, s);
    const collab2 = chain.accounts[8]!;
    const { contentAccessAbi } = await import("@streamvault/lib/deployments/abis.ts");
    const hash = await chain.wallet(collab2).writeContract({ address: s.contracts.contentAccess, abi: contentAccessAbi, functionName: "subscribe", args: [zeroAddress, 1, parseEther("0.01")], value: parseEther("0.01") });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    await ix.waitForBlock(receipt.blockNumber);
    const after = await expectAccessMatchesChain(ix, chain, s);
    expect(after).to.be.greaterThan(before); // a1 and b2 are in the subscription
  });

  it("projects LiveStreams as it happens: the README's queries (streams live now, a creator's streams) follow starts and ends", async function () {
    const [aria, bex] = [chain.accounts[2]!, chain.accounts[3]!];
    const send = async (account: Account, functionName: "startLive" | "endLive", args: readonly unknown[]) => {
      const hash = await chain.wallet(account).writeContract({ address: s.contracts.liveStreams, abi: liveStreamsAbi, functionName, args } as never);
      const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status).to.equal("success");
      await ix.waitForBlock(receipt.blockNumber);
      return receipt;
    };
    const liveNow = `{ liveStreams(where: { state: "live" }, orderBy: "startedAt", orderDirection: "desc") { totalCount items { id creator startedAt startedTx content { tierName manifestPieceCid } creatorProfile { coinSymbol } } } }`;
    const ariaStreams = `{ liveStreams(where: { creator: "${s.accounts.aria.toLowerCase()}" }, orderBy: "startedAt", orderDirection: "desc") { totalCount items { id state startedAt endedAt segments duration endedTx } } }`;
    expect((await ix.graphql(liveNow)).liveStreams.totalCount).to.equal(0);

    const started = await send(aria, "startLive", [s.content.a3]);
    await send(bex, "startLive", [s.content.b2]);
    const now = (await ix.graphql(liveNow)).liveStreams;
    expect(now.items.map((l: any) => [l.id, l.creator])).to.have.deep.members([
      [s.content.a3, s.accounts.aria.toLowerCase()],
      [s.content.b2, s.accounts.bex.toLowerCase()],
    ]);
    const a3 = now.items.find((l: any) => l.id === s.content.a3);
    const a3Content = (await ix.graphql(`{ content(id: "${s.content.a3}") { tierName manifestPieceCid } }`)).content;
    expect(a3).to.deep.include({ startedTx: started.transactionHash, content: a3Content, creatorProfile: { coinSymbol: "ARIA" } });
    expect(a3Content.tierName).to.equal("free");
    expect(a3.startedAt).to.equal(String((await chain.publicClient.getBlock({ blockNumber: started.blockNumber })).timestamp));

    const ended = await send(aria, "endLive", [s.content.a3, 12]);
    expect((await ix.graphql(liveNow)).liveStreams.items.map((l: any) => l.id)).to.deep.equal([s.content.b2]);
    const mine = (await ix.graphql(ariaStreams)).liveStreams.items;
    expect(mine.map((l: any) => [l.id, l.state, l.segments, l.endedTx])).to.deep.equal([[s.content.a3, "ended", 12, ended.transactionHash]]);
    // Each row is what LiveStreams.streamOf says, duration included.
    for (const row of [mine[0], ...(await ix.graphql(liveNow)).liveStreams.items]) {
      const onChain = await chain.publicClient.readContract({ address: s.contracts.liveStreams, abi: liveStreamsAbi, functionName: "streamOf", args: [row.id] });
      const full = (await ix.graphql(`{ liveStream(id: "${row.id}") { state startedAt endedAt segments duration } }`)).liveStream;
      expect(full).to.deep.equal({
        state: LIVE_STATUS_NAMES[onChain.status],
        startedAt: String(onChain.startedAt),
        endedAt: onChain.endedAt ? String(onChain.endedAt) : null,
        segments: onChain.endedAt ? onChain.segments : null,
        duration: onChain.endedAt ? String(onChain.endedAt - onChain.startedAt) : null,
      });
    }
    // Nested: an item's live state, a creator's live streams; an item never streamed has none.
    const nested = await ix.graphql(`{ content(id: "${s.content.a3}") { liveStream { state } } creator(id: "${s.accounts.bex.toLowerCase()}") { liveStreams(where: { state: "live" }) { totalCount } } never: content(id: "${s.content.a1}") { liveStream { state } } }`);
    expect(nested).to.deep.equal({ content: { liveStream: { state: "ended" } }, creator: { liveStreams: { totalCount: 1 } }, never: { liveStream: null } });
  });
});

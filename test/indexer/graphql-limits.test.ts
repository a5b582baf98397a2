/**
 * The GraphQL admission checks on their own (no server): the cost model on known shapes, every
 * query the indexer README documents still admitted under the default limits, the refusals the
 * abusive shapes get, cursor recognition, and the answer deadline. The same checks run end to end
 * against `ponder start` in indexer.test.ts.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getIntrospectionQuery } from "graphql";
import {
  DEFAULT_LIMITS,
  answerWithin,
  checkGraphqlRequest,
  estimate,
  isCursor,
  limitsFromEnv,
  parseQuery,
  readGraphqlRequest,
} from "../../indexer/src/api/graphql-limits.ts";
import { INDEXER_DIR } from "./harness.ts";

const cost = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  estimate(parseQuery(query), variables, operationName);
const check = (query: string, variables?: Record<string, unknown>) =>
  checkGraphqlRequest(JSON.stringify({ query, variables }), DEFAULT_LIMITS);

/** contents -> creatorProfile -> contents, `levels` lists deep (the shape of the reported attack). */
function nestedContents(levels: number): string {
  let inner = "id";
  for (let i = 0; i < levels; i++) inner = `contents { items { ${i === 0 ? inner : `creatorProfile { ${inner} }`} } }`;
  return `{ ${inner} }`;
}

describe("indexer GraphQL limits (document analysis)", function () {
  it("prices pages by rows read and multiplies what their items nest", function () {
    expect(cost(`{ contents { items { id } } }`)).to.deep.equal({ depth: 3, cost: 51 });
    expect(cost(`{ contents(limit: 1000) { totalCount items { id } pageInfo { endCursor } } }`)).to.deep.equal({ depth: 3, cost: 1002 });
    expect(cost(`{ contents(limit: 10, offset: 5) { totalCount } }`).cost).to.equal(1 + 15 + 1);
    // 51 for the outer page, then per row: 1 creator lookup + its 51-row page.
    expect(cost(`{ contents { items { creatorProfile { contents { items { id } } } } } }`)).to.deep.equal({ depth: 6, cost: 51 + 50 * (1 + 51) });
    expect(cost(`{ creator(id: "0x00") { profileUri contents { totalCount } } }`)).to.deep.equal({ depth: 3, cost: 1 + 51 + 1 });
    // Aliases run twice; variables and their defaults set limits; fragments count like inline selections.
    expect(cost(`{ a: contents(limit: 3) { items { id } } b: contents(limit: 3) { items { id } } }`).cost).to.equal(8);
    expect(cost(`query($n: Int = 7) { contents(limit: $n) { items { id } } }`).cost).to.equal(8);
    expect(cost(`query($n: Int = 7) { contents(limit: $n) { items { id } } }`, { n: 70 }).cost).to.equal(71);
    const inline = cost(`{ contents(limit: 20) { items { creatorProfile { contents(limit: 30) { items { id } } } } } }`);
    const fragments = cost(
      `query Q { contents(limit: 20) { ...Page } } fragment Page on contentPage { items { ...Row } } fragment Row on content { creatorProfile { contents(limit: 30) { items { id } } } }`,
    );
    expect(fragments).to.deep.equal(inline);
    // The named operation is the one measured.
    expect(cost(`query A { contents(limit: 1) { items { id } } } query B { contents(limit: 900) { items { id } } }`, {}, "A").cost).to.equal(2);
  });

  it("measures fragments once, so fragment fan-out cannot make the check itself slow", function () {
    // Each fragment spreads the next one twice: 2^40 expansions if walked naively.
    const chain = Array.from({ length: 40 }, (_, i) => `fragment F${i} on content { ...F${i + 1} ...F${i + 1} }`).join(" ");
    const measured = cost(`{ contents { items { ...F0 } } } ${chain} fragment F40 on content { id }`);
    expect(measured).to.deep.equal({ depth: 3, cost: 51 });
    // The same fan-out at page level (fragments on the page type).
    const pageChain = Array.from({ length: 40 }, (_, i) => `fragment P${i} on contentPage { ...P${i + 1} ...P${i + 1} }`).join(" ");
    expect(cost(`{ contents(limit: 2) { ...P0 } } ${pageChain} fragment P40 on contentPage { totalCount }`)).to.deep.equal({ depth: 2, cost: 3 + 2 ** 40 });
  });

  it("admits every query the indexer README documents", function () {
    const readme = readFileSync(join(INDEXER_DIR, "README.md"), "utf8");
    const documented = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const inCurl = [...readme.matchAll(/-d '(\{"query".*?\})'/g)].map((m) => JSON.parse(m[1]!).query as string);
    expect(documented.length).to.be.greaterThan(20);
    expect(inCurl.length).to.be.greaterThan(0);
    for (const query of [...documented, ...inCurl]) {
      const measured = cost(query.replace("<endCursor>", "eyJqc29uIjp7ImlkIjoiMHgwMCJ9fQ=="));
      expect(measured.depth, query).to.be.at.most(DEFAULT_LIMITS.maxDepth);
      expect(measured.cost, query).to.be.at.most(DEFAULT_LIMITS.maxCost);
    }
    // The web studio's heaviest read: three pages of 1000, 1000 and 100 rows.
    expect(check(`{ credits(limit: 1000) { items { amount } } accessPurchases(limit: 1000) { items { buyer } } channels(limit: 100) { items { id } } }`)).to.equal(null);
    // Introspection is answered in memory: never refused for depth.
    expect(checkGraphqlRequest(JSON.stringify({ query: getIntrospectionQuery() }), DEFAULT_LIMITS)).to.equal(null);
  });

  it("refuses the reported deep and costly shapes, naming the limit", function () {
    for (const levels of [4, 5, 12]) {
      const refusal = check(nestedContents(levels));
      expect(refusal?.status).to.equal(400);
      expect(refusal?.code).to.equal("QUERY_TOO_DEEP");
      expect(refusal?.message).to.include(`limit of ${DEFAULT_LIMITS.maxDepth} nested fields`);
    }
    // Within the depth limit, two lists of 1000 nested: a million rows.
    const wide = check(`{ contents(limit: 1000) { items { creatorProfile { contents(limit: 1000) { items { id } } } } } }`);
    expect(wide?.code).to.equal("QUERY_TOO_COSTLY");
    expect(wide?.message).to.include(`exceeds the limit of ${DEFAULT_LIMITS.maxCost}`);
    // The same through a variable.
    expect(check(`query($n: Int) { contents(limit: $n) { items { creatorProfile { contents(limit: $n) { items { id } } } } } }`, { n: 1000 })?.code).to.equal("QUERY_TOO_COSTLY");
    // Three lists of the default size stay within the depth limit but not the cost limit.
    const three = `{ contents { items { creatorProfile { contents { items { creatorProfile { contents { items { id } } } } } } } } }`;
    expect(checkGraphqlRequest(JSON.stringify({ query: three }), { ...DEFAULT_LIMITS, maxDepth: 20 })?.code).to.equal("QUERY_TOO_COSTLY");
    // Requests that are not GraphQL documents are left to Ponder's own errors.
    expect(checkGraphqlRequest("not json", DEFAULT_LIMITS)).to.equal(null);
    expect(check("{ contents { ")).to.equal(null);
  });

  it("reads every body form Yoga runs, so no content type slips past the checks", function () {
    const deep = nestedContents(4);
    expect(checkGraphqlRequest(deep, DEFAULT_LIMITS, "application/graphql")?.code).to.equal("QUERY_TOO_DEEP");
    const form = new URLSearchParams({ query: `query($n: Int) { contents(limit: $n) { items { creatorProfile { contents(limit: $n) { items { id } } } } } }`, variables: JSON.stringify({ n: 1000 }) });
    expect(checkGraphqlRequest(form.toString(), DEFAULT_LIMITS, "application/x-www-form-urlencoded")?.code).to.equal("QUERY_TOO_COSTLY");
    expect(checkGraphqlRequest(JSON.stringify({ query: deep }), DEFAULT_LIMITS, "application/graphql+json; charset=utf-8")?.code).to.equal("QUERY_TOO_DEEP");
    expect(checkGraphqlRequest(JSON.stringify([{ query: "{ contents { items { id } } }" }, { query: deep }]), DEFAULT_LIMITS)?.code).to.equal("QUERY_TOO_DEEP");
    // What is handed on is JSON of exactly the checked request.
    const read = readGraphqlRequest("application/graphql", "{ contents { items { id } } }");
    expect(read).to.deep.equal({ params: [{ query: "{ contents { items { id } } }" }], json: JSON.stringify({ query: "{ contents { items { id } } }" }) });
    expect(readGraphqlRequest("multipart/form-data; boundary=x", "--x--")).to.equal("unsupported");
    expect(readGraphqlRequest("text/plain", deep)).to.equal("unsupported");
    expect(readGraphqlRequest(null, deep)).to.equal("unsupported");
    expect(readGraphqlRequest("application/json", "{ not json")).to.equal(null); // Yoga reports it
  });

  it("recognises Ponder cursors and refuses malformed ones", function () {
    const readme = readFileSync(join(INDEXER_DIR, "README.md"), "utf8");
    const documentedCursor = readme.match(/"endCursor": "([A-Za-z0-9+/=]+)"/)![1]!; // orderBy launchBlock
    expect(isCursor(documentedCursor)).to.equal(true);
    expect(isCursor(documentedCursor, "launchBlock")).to.equal(true);
    expect(isCursor(documentedCursor, "profileUri")).to.equal(false); // a cursor of another ordering
    expect(isCursor("not-a-cursor")).to.equal(false);
    expect(isCursor(Buffer.from("{ broken").toString("base64"))).to.equal(false);
    expect(isCursor(Buffer.from(JSON.stringify({ id: "0x00" })).toString("base64"))).to.equal(false); // not superjson
    const refusal = check(`{ creators(orderBy: "launchBlock", after: "abc") { items { id } } }`);
    expect(refusal?.code).to.equal("INVALID_CURSOR");
    expect(refusal?.message).to.include(`Invalid cursor in "after" of creators`).and.include("pageInfo.endCursor");
    expect(check(`query($c: String) { creators(before: $c) { items { id } } }`, { c: "%%%" })?.message).to.include(`"before"`);
    expect(check(`{ creators(orderBy: "launchBlock", after: "${documentedCursor}") { items { id } } }`)).to.equal(null);
  });

  it("reads limits from the environment, keeping defaults for malformed values", function () {
    expect(limitsFromEnv({})).to.deep.equal(DEFAULT_LIMITS);
    expect(limitsFromEnv({ GRAPHQL_MAX_DEPTH: "12", GRAPHQL_MAX_COST: "500", GRAPHQL_TIMEOUT_MS: "250" })).to.deep.equal({ maxDepth: 12, maxCost: 500, timeoutMs: 250 });
    expect(limitsFromEnv({ GRAPHQL_MAX_DEPTH: "deep", GRAPHQL_MAX_COST: "-1", GRAPHQL_TIMEOUT_MS: "0" })).to.deep.equal(DEFAULT_LIMITS);
  });

  it("answers within the deadline, or says it ran out", async function () {
    const slow = new Promise<string>((resolve) => setTimeout(() => resolve("late"), 300));
    expect(await answerWithin(slow, 5)).to.equal("timeout");
    expect(await answerWithin(Promise.resolve("done"), 1000)).to.equal("done");
    // A late failure after the deadline is not an unhandled rejection.
    const failing = new Promise<string>((_, reject) => setTimeout(() => reject(new Error("late failure")), 20));
    expect(await answerWithin(failing, 1)).to.equal("timeout");
    await new Promise((r) => setTimeout(r, 40));
  });
});

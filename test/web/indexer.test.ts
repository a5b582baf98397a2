/**
 * The web app on top of the real indexer (ponder start on PGlite): Discover and creator pages
 * read the indexer's GraphQL API, and the creator dashboard shows earnings, sales and top fans.
 * No browser: server-rendered pages and JSON routes are enough here.
 */
import { expect } from "chai";
import { createPublicClient, createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { startStack, FAN_KEY, TRACK_PRICE, type Stack } from "./stack.ts";
import { ensureBuild, startWeb, type WebServer } from "./server.ts";
import { startIndexer, type IndexerProcess } from "../indexer/harness.ts";
import { contractOf } from "../../lib/deployments/index.ts";

describe("web app on the indexer", function () {
  this.timeout(300_000);
  let stack: Stack;
  let indexer: IndexerProcess;
  let web: WebServer;

  before(async () => {
    const [s] = await Promise.all([startStack(), ensureBuild()]);
    stack = s;
    // a sale, so the dashboard has earnings and a fan
    const fan = createWalletClient({ account: privateKeyToAccount(FAN_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const access = contractOf(stack.deployment, "ContentAccess");
    const [, price, , version] = await pub.readContract({ address: access.address, abi: access.abi, functionName: "purchaseTerms", args: [stack.track.contentId] });
    expect(price).to.equal(TRACK_PRICE);
    const hash = await fan.writeContract({ address: access.address, abi: access.abi, functionName: "purchaseAccess", args: [stack.track.contentId, version], value: price });
    const receipt = await pub.waitForTransactionReceipt({ hash });
    indexer = await startIndexer({ rpcUrl: stack.anvil.rpcUrl, deploymentsDir: stack.env.DEPLOYMENTS_DIR! });
    await indexer.waitReady(120_000);
    await indexer.waitForBlock(receipt.blockNumber, 60_000);
    web = await startWeb({ ...stack.env, INDEXER_URL: indexer.url });
  });

  after(async () => {
    await web?.stop();
    await indexer?.stop();
    await stack?.stop();
  });

  it("Discover lists the catalogue from the indexer, with search and the creator filter", async () => {
    const res = await fetch(`${web.url}/api/catalog`);
    const body = (await res.json()) as { source: string; items: { id: Hex; title: string; artist: string }[] };
    expect(body.source).to.equal("indexer");
    expect(body.items.map((i) => i.id)).to.deep.equal([stack.track.contentId]);
    expect(body.items[0]!.title).to.equal(stack.track.title);
    const html = await (await fetch(`${web.url}/?creator=${stack.creator}&q=nova`)).text();
    expect(html).to.contain(stack.track.title).and.to.match(/from the (<!-- -->)?indexer/);
    const none = (await (await fetch(`${web.url}/api/catalog?q=zzz-none`)).json()) as { items: unknown[] };
    expect(none.items).to.have.length(0);
  });

  it("the creator dashboard shows earnings over time, the sale and the top fan", async () => {
    const res = await fetch(`${web.url}/api/studio/${stack.creator}`);
    const body = (await res.json()) as {
      storage: { bytes: number; monthlyFormatted: string };
      indexer: null | { earningsByDay: { day: string }[]; topFans: { buyer: string; purchases: number }[]; summary: { sales: { purchases: number }[] } };
    };
    expect(body.storage.bytes).to.be.greaterThan(0);
    expect(body.indexer, "indexer data").to.not.equal(null);
    expect(body.indexer!.earningsByDay).to.have.length.greaterThan(0);
    expect(body.indexer!.topFans[0]!.buyer).to.equal(privateKeyToAccount(FAN_KEY).address.toLowerCase());
    expect(body.indexer!.summary.sales[0]!.purchases).to.equal(1);
  });
});

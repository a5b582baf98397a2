/**
 * The web app on top of the real indexer (ponder start on PGlite): Discover and creator pages
 * read the indexer's GraphQL API, and the creator dashboard shows earnings, sales and top fans.
 * The dashboard is also rendered in chromium (chart, tables, no console errors).
 */
import { expect } from "chai";
import { createPublicClient, createWalletClient, http, parseEventLogs, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { startStack, FAN_KEY, STREAMER_KEY, STREAM_RATE, TRACK_PRICE, type Stack } from "./stack.ts";
import { ensureBuild, playwright, startWeb, studioGet, type WebServer } from "./server.ts";
import { installWallet } from "./wallet.ts";
import { CREATOR_KEY } from "./stack.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { startIndexer, type IndexerProcess } from "../indexer/harness.ts";
import { contractOf } from "@streamvault/lib/deployments";
import { voucherTypedData } from "@streamvault/lib/chain/voucher.ts";

describe("web app on the indexer", function () {
  this.timeout(300_000);
  let stack: Stack;
  let indexer: IndexerProcess;
  let web: WebServer;
  let channelId: bigint;
  const RATE = STREAM_RATE; // the seeded track's stream price
  const ZERO = "0x0000000000000000000000000000000000000000" as const;

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
    await pub.waitForTransactionReceipt({ hash });
    // two minutes of pay per minute, redeemed: streaming earnings reach the dashboard too
    const streamer = createWalletClient({ account: privateKeyToAccount(STREAMER_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const pc = contractOf(stack.deployment, "PaymentChannels");
    const opened = await pub.waitForTransactionReceipt({
      hash: await streamer.writeContract({
        address: pc.address, abi: pc.abi, functionName: "openChannel", value: 10n * RATE,
        args: [{ contentId: stack.track.contentId, token: ZERO, deposit: 10n * RATE, ratePerMinute: RATE, expiresAt: BigInt(Math.floor(Date.now() / 1000) + 7 * 86400), sessionKey: { key: ZERO, spendingCap: 0n, expiresAt: 0n } }],
      }),
    });
    const [log] = parseEventLogs({ abi: pc.abi, logs: opened.logs, eventName: "ChannelOpened" });
    channelId = log!.args.channelId;
    const signature = await streamer.signTypedData(voucherTypedData(31337, pc.address, channelId, 2n * RATE));
    const creatorWallet = createWalletClient({ account: privateKeyToAccount(CREATOR_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const receipt = await pub.waitForTransactionReceipt({
      hash: await creatorWallet.writeContract({ address: pc.address, abi: pc.abi, functionName: "redeemVoucher", args: [channelId, 2n * RATE, signature] }),
    });
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

  it("streaming earnings (a redeemed two-minute voucher) count in the dashboard's earnings beside the sale; the channel is listed", async () => {
    const body = (await (await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}`)).json()) as { indexer: { earningsByDay: Record<string, number | string>[] } };
    const total = body.indexer.earningsByDay.reduce((n, row) => n + Number(row[ZERO] ?? 0), 0);
    const expected = Number(TRACK_PRICE + 2n * RATE - ((TRACK_PRICE + 2n * RATE) * 300n) / 10_000n) / 1e18; // both minus the 3% fee
    expect(total).to.be.closeTo(expected, 1e-12);
    const streams = (await (await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/streams`)).json()) as { streams: { id: string; redeemed: string; voucher: unknown; redeemable: string }[] };
    expect(streams.streams).to.have.length(1);
    expect(streams.streams[0]).to.include({ id: channelId.toString(), redeemed: (2n * RATE).toString(), redeemable: "0" });
    expect(streams.streams[0]!.voucher).to.equal(null); // redeemed directly: the server never received a voucher for it
  });

  it("the creator dashboard shows earnings over time, the sale and the top fan", async () => {
    const res = await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}`);
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

  it("renders the dashboard with the earnings chart in the browser; the creator withdraws", async () => {
    const browser = await playwright().chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(String(e)));
      await installWallet(page, CREATOR_KEY, stack.anvil.rpcUrl);
      await page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
      await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
      await page.getByRole("img", { name: /Earnings per day/ }).locator("svg").first().waitFor({ timeout: 20_000 });
      await page.getByRole("heading", { name: "Top fans" }).waitFor();
      const shots = join(REPO_ROOT, "test-results", "web");
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, "studio-dashboard-1280.png"), fullPage: true });
      // withdraw the sale
      await page.getByTestId("withdraw-sales-0").click();
      await page.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      await page.getByText("Sales: 0 ETH").waitFor({ timeout: 15_000 });
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});

/**
 * The web app on top of the real indexer (ponder start on PGlite): Discover and creator pages
 * read the indexer's GraphQL API, and the creator dashboard shows earnings, sales and top fans.
 * Earnings (a sale and a redeemed voucher, both split with a 10% collaborator) must equal what the
 * chain holds: net = balanceOf on both ledgers + withdrawn, in the JSON, the CSV and the page. The
 * dashboard is also rendered in chromium at 1280 and 375 px (no sideways scroll, no console errors).
 */
import { expect } from "chai";
import { createPublicClient, createWalletClient, http, parseEventLogs, parseUnits, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { startStack, FAN_KEY, STREAMER_KEY, STREAM_RATE, TRACK_PRICE, type Stack } from "./stack.ts";
import { ensureBuild, sessionCookie, startWeb, studioGet, type WebServer } from "./server.ts";
import { launchChromium } from "./session.ts";
import { cidToBytes } from "@streamvault/lib/chain/cid.ts";
import { installWallet } from "./wallet.ts";
import { CREATOR_KEY } from "./stack.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { startIndexer, type IndexerProcess } from "../indexer/harness.ts";
import { contractOf } from "@streamvault/lib/deployments";
import { voucherTypedData } from "@streamvault/lib/chain/voucher.ts";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import type { EarningsBreakdown } from "streamvault-web/lib/server/earnings.ts";

const COLLABORATOR = privateKeyToAccount(DEV_PRIVATE_KEYS[5] as Hex).address;
const COLLABORATOR_BPS = 1_000; // 10% of what is left after the platform fee

describe("web app on the indexer", function () {
  this.timeout(300_000);
  let stack: Stack;
  let indexer: IndexerProcess;
  let web: WebServer;
  let channelId: bigint;
  const RATE = STREAM_RATE; // the seeded track's stream price
  const ZERO = "0x0000000000000000000000000000000000000000" as const;
  let pub: PublicClient;

  /** What the chain says the creator earned in native currency: both ledgers' balances plus every withdrawal. */
  async function onChain(): Promise<{ balance: bigint; withdrawn: bigint }> {
    let balance = 0n;
    let withdrawn = 0n;
    for (const name of ["ContentAccess", "PaymentChannels"] as const) {
      const ledger = contractOf(stack.deployment, name);
      balance += await pub.readContract({ address: ledger.address, abi: ledger.abi, functionName: "balanceOf", args: [stack.creator as Address, ZERO] });
      const logs = await pub.getContractEvents({ address: ledger.address, abi: ledger.abi, eventName: "Withdrawn", args: { payee: stack.creator as Address, token: ZERO }, fromBlock: 0n, toBlock: "latest" });
      withdrawn += logs.reduce((n, l) => n + l.args.amount!, 0n);
    }
    return { balance, withdrawn };
  }

  const earningsOf = async () => {
    const res = await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/earnings?format=json`);
    expect(res.status).to.equal(200);
    return (await res.json()) as EarningsBreakdown;
  };

  before(async () => {
    const [s] = await Promise.all([startStack(), ensureBuild()]);
    stack = s;
    // a sale, so the dashboard has earnings and a fan
    const fan = createWalletClient({ account: privateKeyToAccount(FAN_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    pub = createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) }) as PublicClient;
    const access = contractOf(stack.deployment, "ContentAccess");
    // a collaborator's share, so every column of the breakdown has something in it
    const creatorWallet = createWalletClient({ account: privateKeyToAccount(CREATOR_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    await pub.waitForTransactionReceipt({
      hash: await creatorWallet.writeContract({ address: access.address, abi: access.abi, functionName: "updateCollaborators", args: [stack.track.contentId, [{ account: COLLABORATOR, shareBps: COLLABORATOR_BPS }]] }),
    });
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
    const body = (await res.json()) as { source: string; items: { id: Hex; title: string; artist: string; streamRatePerMinute: string }[] };
    expect(body.source).to.equal("indexer");
    expect(body.items.map((i) => i.id)).to.deep.equal([stack.track.contentId]);
    expect(body.items[0]!.title).to.equal(stack.track.title);
    expect(body.items[0]!.streamRatePerMinute, "the per-minute price, from the indexer's streamPrice").to.equal(RATE.toString());
    const html = await (await fetch(`${web.url}/?creator=${stack.creator}&q=nova`)).text();
    expect(html).to.contain(stack.track.title).and.to.match(/from the (<!-- -->)?indexer/);
    const none = (await (await fetch(`${web.url}/api/catalog?q=zzz-none`)).json()) as { items: unknown[] };
    expect(none.items).to.have.length(0);
  });

  it("earnings (the sale and a redeemed two-minute voucher) are split into fee, collaborator and net, and the net is what the chain credited", async () => {
    const split = (amount: bigint) => {
      const fee = (amount * 300n) / 10_000n;
      const collaborator = ((amount - fee) * BigInt(COLLABORATOR_BPS)) / 10_000n;
      return { fee, collaborator, net: amount - fee - collaborator };
    };
    const sale = split(TRACK_PRICE);
    const minutes = split(2n * RATE);
    const earnings = await earningsOf();
    expect(earnings.platformFeeBps).to.equal(300);
    expect(earnings.explanation).to.match(/^3% platform fee/);
    const [eth] = earnings.totals;
    expect(earnings.totals).to.have.length(1);
    expect(eth).to.deep.equal({
      token: ZERO,
      payments: 2,
      gross: (TRACK_PRICE + 2n * RATE).toString(),
      platformFee: (sale.fee + minutes.fee).toString(),
      collaborators: (sale.collaborator + minutes.collaborator).toString(),
      net: (sale.net + minutes.net).toString(),
      withdrawn: "0",
      withdrawable: (sale.net + minutes.net).toString(),
    });
    const chain = await onChain();
    expect(BigInt(eth!.net)).to.equal(chain.balance + chain.withdrawn);
    expect(BigInt(eth!.withdrawable)).to.equal(chain.balance);
    expect(earnings.byRelease.map((r) => [r.contentId, r.title, r.payments])).to.deep.equal([[stack.track.contentId.toLowerCase(), stack.track.title, 2]]);
    expect(earnings.byDay.reduce((n, d) => n + BigInt(d.net), 0n)).to.equal(chain.balance + chain.withdrawn);

    const streams = (await (await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/streams`)).json()) as { streams: { id: string; redeemed: string; voucher: unknown; redeemable: string }[] };
    expect(streams.streams).to.have.length(1);
    expect(streams.streams[0]).to.include({ id: channelId.toString(), redeemed: (2n * RATE).toString(), redeemable: "0" });
    expect(streams.streams[0]!.voucher).to.equal(null); // redeemed directly: the server never received a voucher for it
  });

  it("the earnings CSVs (per day, per release) are attachments whose rows sum to the chain's balance plus withdrawals", async () => {
    const chain = await onChain();
    for (const by of ["day", "release"] as const) {
      const res = await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/earnings?by=${by}`);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.equal("text/csv; charset=utf-8");
      expect(res.headers.get("content-disposition")).to.match(new RegExp(`^attachment; filename="streamvault-earnings-${stack.creator.toLowerCase().slice(0, 10)}-per-${by}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`));
      const [head, ...rows] = (await res.text()).trimEnd().split("\r\n").map((r) => r.split(","));
      const col = (name: string) => head!.indexOf(name);
      expect(col("net"), head!.join(",")).to.be.greaterThan(0);
      expect(rows).to.have.length(1);
      const sum = (name: string) => rows.reduce((n, r) => n + parseUnits(r[col(name)]!, 18), 0n);
      expect(sum("net")).to.equal(chain.balance + chain.withdrawn);
      expect(sum("gross")).to.equal(sum("platform_fee") + sum("collaborators") + sum("net"));
      expect(sum("gross")).to.equal(TRACK_PRICE + 2n * RATE);
    }
  });

  it("earnings are the creator's alone: no session 401, another wallet's session 403, bad parameters 400", async () => {
    const path = `/api/studio/${stack.creator}/earnings?by=day`;
    expect((await fetch(`${web.url}${path}`)).status).to.equal(401);
    const other = await studioGet(web.url, FAN_KEY, path);
    expect(other.status).to.equal(403);
    expect(((await other.json()) as { message: string }).message).to.match(/sign in with that wallet/);
    const bad = await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}/earnings?by=week`);
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { message: string }).message).to.match(/by must be "day" or "release"/);
  });

  it("the creator dashboard shows earnings over time, the sale and the top fan", async () => {
    const res = await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}`);
    const body = (await res.json()) as {
      storage: { bytes: number; monthlyFormatted: string };
      indexer: null | { earnings: EarningsBreakdown; topFans: { buyer: string; purchases: number }[]; summary: { sales: { purchases: number }[] } };
    };
    expect(body.storage.bytes).to.be.greaterThan(0);
    expect(body.indexer, "indexer data").to.not.equal(null);
    expect(body.indexer!.earnings).to.deep.equal(await earningsOf()); // the dashboard and the CSV route read the same breakdown
    expect(body.indexer!.topFans[0]!.buyer).to.equal(privateKeyToAccount(FAN_KEY).address.toLowerCase());
    expect(body.indexer!.summary.sales[0]!.purchases).to.equal(1);
  });

  it("renders the earnings in the browser at 1280 and 375 px without sideways scroll; the creator withdraws and the totals follow the chain", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(String(e)));
      await installWallet(page, CREATOR_KEY, stack.anvil.rpcUrl);
      await page.goto(`${web.url}/studio`, { waitUntil: "networkidle" });
      await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
      await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
      const total = page.getByTestId("earnings-total");
      await total.waitFor({ timeout: 20_000 });
      await page.getByRole("heading", { name: "Top fans" }).waitFor();
      const before = await earningsOf();
      expect(await total.getAttribute("data-withdrawable")).to.equal(before.totals[0]!.withdrawable);
      expect(await page.getByTestId("earnings-fee-line").textContent()).to.equal(before.explanation);
      // one day: one row whose bar is split into net, collaborators and fee (not one solid block)
      const day = page.getByTestId("earnings-day-row");
      expect(await day.count()).to.equal(1);
      expect(await day.locator("[data-part]").evaluateAll((parts) => parts.map((p) => [p.getAttribute("data-part"), (p as HTMLElement).offsetWidth > 0]))).to.deep.equal([
        ["net", true],
        ["collaborators", true],
        ["platformFee", true],
      ]);
      const shots = join(REPO_ROOT, "test-results", "web");
      mkdirSync(shots, { recursive: true });
      const noSidewaysScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      await page.screenshot({ path: join(shots, "studio-dashboard-1280.png"), fullPage: true });
      await page.getByTestId("earnings").screenshot({ path: join(shots, "studio-earnings-1280.png") });
      expect(await noSidewaysScroll(), "sideways scroll at 1280 px").to.equal(true);
      const feeLines = await page.getByTestId("earnings-fee-line").evaluate((p) => Math.round(p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight)));
      expect(feeLines, "the fee is explained in one line at 1280 px").to.equal(1);
      // the CSV link downloads with the page's session cookie, under its file name
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("earnings-csv-release").click()]);
      expect(download.suggestedFilename()).to.match(/^streamvault-earnings-0x[0-9a-f]{8}-per-release-\d{4}-\d{2}-\d{2}\.csv$/);
      const csv = await readFile((await download.path())!, "utf8");
      expect(csv.split("\r\n")[1]).to.contain(`${stack.track.contentId.toLowerCase()},${stack.track.title},ETH,${ZERO},2,`);
      await page.setViewportSize({ width: 375, height: 1400 }); // tall enough that the section's screenshot is not stitched under the sticky nav
      await page.getByTestId("earnings").scrollIntoViewIfNeeded();
      await page.getByTestId("earnings").screenshot({ path: join(shots, "studio-earnings-375.png") });
      await page.screenshot({ path: join(shots, "studio-dashboard-375.png"), fullPage: true });
      expect(await noSidewaysScroll(), "sideways scroll at 375 px").to.equal(true);
      await page.setViewportSize({ width: 1280, height: 900 });
      // withdraw the sale; the indexer sees the withdrawal and the breakdown ends in the new balance
      await page.getByTestId("withdraw-sales-0").click();
      await page.locator('[data-testid=tx-status][data-state="confirmed"]').waitFor({ timeout: 30_000 });
      await page.getByText("Sales: 0 ETH").waitFor({ timeout: 15_000 });
      await indexer.waitForBlock(await pub.getBlockNumber(), 60_000);
      const chain = await onChain();
      expect(chain.withdrawn > 0n, "a withdrawal on chain").to.equal(true);
      const [after] = (await earningsOf()).totals;
      expect(after).to.include({ net: before.totals[0]!.net, withdrawn: chain.withdrawn.toString(), withdrawable: chain.balance.toString() });
      expect(BigInt(after!.net)).to.equal(chain.balance + chain.withdrawn);
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });

  it("top fans are named by their profile (from the indexer's profileUri) when the fan is a creator too, by their coin's name before", async () => {
    const fanAccount = privateKeyToAccount(FAN_KEY);
    const fanWallet = createWalletClient({ account: fanAccount, chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const registry = contractOf(stack.deployment, "CreatorRegistry");
    await pub.waitForTransactionReceipt({
      hash: await fanWallet.writeContract({
        address: registry.address, abi: registry.abi, functionName: "launchCreator",
        args: [
          { name: "Fan Beats", symbol: "FANB", supply: 1000n * 10n ** 18n, creatorAllocation: 0n },
          { name: "Fan Beats Pass", symbol: "FANP", maxSupply: 5n, mintPrice: 0n, mintEnabled: false, royaltyBps: 0 },
          "",
        ],
      }),
    });
    const topFan = async () => {
      const res = await studioGet(web.url, CREATOR_KEY, `/api/studio/${stack.creator}`);
      return ((await res.json()) as { indexer: { topFans: { buyer: string; name: string | null }[] } }).indexer.topFans[0]!;
    };
    // The studio's names come from the indexer's API, which can answer from the block before for a
    // moment after /status reports the launch (seen once in CI): poll up to 10 s, like the profile below.
    const namedAs = async (name: string) => {
      let fan = await topFan();
      for (let i = 0; i < 20 && fan.name !== name; i++) {
        await new Promise((r) => setTimeout(r, 500));
        fan = await topFan();
      }
      return fan;
    };
    await indexer.waitForBlock(await pub.getBlockNumber(), 60_000);
    expect(await namedAs("Fan Beats")).to.include({ buyer: fanAccount.address.toLowerCase(), name: "Fan Beats" });
    // The profile piece in the store the server reads, its URI on chain (as the studio's Profile panel does).
    const { storeProfile } = await import("@streamvault/lib/catalog/profile/store.ts");
    const { LocalStore } = await import("@streamvault/lib/storage");
    const { pieceCid } = await storeProfile(new LocalStore({ dir: stack.env.STORAGE_DATA_DIR! }), { name: "DJ Harbour Fan" });
    const set = await pub.waitForTransactionReceipt({
      hash: await fanWallet.writeContract({ address: registry.address, abi: registry.abi, functionName: "setProfileURI", args: [`${web.url}/api/piece/${pieceCid}`] }),
    });
    await indexer.waitForBlock(set.blockNumber, 60_000);
    const indexed = await indexer.graphql<{ creator: { profileUri: string } }>(`{ creator(id: "${fanAccount.address.toLowerCase()}") { profileUri } }`);
    expect(indexed.creator.profileUri).to.equal(`${web.url}/api/piece/${pieceCid}`);
    // The resolver keeps a URI 5 s: the new name shows within that.
    expect((await namedAs("DJ Harbour Fan")).name).to.equal("DJ Harbour Fan");
    const profile = (await (await fetch(`${web.url}/api/profile/${fanAccount.address}`)).json()) as { profile: { name: string } };
    expect(profile.profile.name).to.equal("DJ Harbour Fan");
  });

  // Last: it renames the seeded track, which the earnings tests above name by its first title.
  it("a release renamed in the studio (new manifest, updateManifest) reaches Discover through the indexer's ManifestUpdated", async () => {
    const form = new FormData();
    form.set("contentId", stack.track.contentId);
    form.set("title", "Renamed On Chain");
    form.set("album", "Indexed");
    const cookie = await sessionCookie(web.url, CREATOR_KEY);
    const saved = await fetch(`${web.url}/api/studio/${stack.creator}/release`, { method: "POST", headers: { cookie, origin: web.url }, body: form });
    expect(saved.status, await saved.clone().text()).to.equal(200);
    const { manifestCid, changed } = (await saved.json()) as { manifestCid: string; changed: boolean };
    expect(changed).to.equal(true);
    // Another creator's session may not edit it.
    const other = await fetch(`${web.url}/api/studio/${privateKeyToAccount(FAN_KEY).address}/release`, { method: "POST", headers: { cookie: await sessionCookie(web.url, FAN_KEY), origin: web.url }, body: form });
    expect(other.status).to.equal(403);
    const creatorWallet = createWalletClient({ account: privateKeyToAccount(CREATOR_KEY), chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const access = contractOf(stack.deployment, "ContentAccess");
    const receipt = await pub.waitForTransactionReceipt({
      hash: await creatorWallet.writeContract({ address: access.address, abi: access.abi, functionName: "updateManifest", args: [stack.track.contentId, cidToBytes(manifestCid)] }),
    });
    await indexer.waitForBlock(receipt.blockNumber, 60_000);
    const body = (await (await fetch(`${web.url}/api/catalog`)).json()) as { source: string; items: { id: Hex; title: string; album?: string; manifestCid: string }[] };
    expect(body.source).to.equal("indexer");
    expect(body.items[0]).to.include({ id: stack.track.contentId, title: "Renamed On Chain", album: "Indexed", manifestCid });
    expect(await (await fetch(`${web.url}/?q=renamed`)).text()).to.contain("Renamed On Chain");
  });
});

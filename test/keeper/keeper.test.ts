import { expect } from "chai";
import { parseEther, toHex, zeroAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ABIS, contractOf } from "@streamvault/lib/deployments";
import { voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import { openKeyReleaseDb, type SqlClient } from "@streamvault/lib/keyrelease/db.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { generateEphemeralKeyPair } from "@streamvault/lib/keyrelease/wrap.ts";
import { SqlVoucherSource, VoucherKeeper, type VoucherKeeperOptions } from "@streamvault/lib/keeper";
import { keeperSettings } from "../../scripts/keeper.ts";
import { signIn, startChainFixture, startFixtureServer, type ChainFixture } from "../keyrelease/fixture.ts";

const RATE = parseEther("0.001");
const DAY = 86_400;
const MARGIN = 3600;

/**
 * The keeper against a real chain (anvil), the real key-release server storing the vouchers the
 * way a web player sends them, and the key-release tables read through SqlVoucherSource.
 */
describe("voucher keeper: redeems the best kept voucher before the channel's deadline or past a threshold", function () {
  this.timeout(120_000);
  let f: ChainFixture;
  let db: SqlClient;
  let srv: KeyReleaseServer;
  let item: { contentId: Hex };
  let keeperAccount: PrivateKeyAccount;

  const pc = () => contractOf(f.deployment, "PaymentChannels");
  const chainNow = async () => Number((await f.publicClient.getBlock({ blockTag: "latest" })).timestamp);
  const channel = (id: bigint) => f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "getChannel", args: [id] });
  const creatorBalance = () => f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "balanceOf", args: [f.creator.address, zeroAddress] });

  function keeper(options: Partial<VoucherKeeperOptions> = {}): VoucherKeeper {
    return new VoucherKeeper({
      publicClient: f.publicClient,
      walletClient: f.wallet(keeperAccount),
      deployment: f.deployment,
      source: new SqlVoucherSource({ db, publicClient: f.publicClient, deployment: f.deployment }),
      closeMarginSeconds: MARGIN,
      // Small chunks, so the incremental log scan crosses chunk borders in this short chain.
      logChunkBlocks: 5,
      ...options,
    });
  }

  /** A viewer with a channel and a session key, signed in: what the web player sets up. */
  async function viewerWithChannel(depositMinutes: bigint) {
    const viewer = await f.newAccount();
    const sessionKey = privateKeyToAccount(generatePrivateKey());
    const now = await chainNow();
    const deposit = depositMinutes * RATE;
    await f.write(viewer, pc().address, ABIS.PaymentChannels, "openChannel", [
      {
        contentId: item.contentId,
        token: zeroAddress,
        deposit,
        ratePerMinute: RATE,
        expiresAt: BigInt(now + 7 * DAY),
        sessionKey: { key: sessionKey.address, spendingCap: deposit, expiresAt: BigInt(now + 2 * DAY) },
      },
    ], deposit);
    const channelId = await f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "channelCount" });
    const cookie = await signIn(srv.url, viewer);
    return { viewer, sessionKey, channelId, cookie };
  }

  /** Minute `minute` the way the web player pays it: a session-key voucher covering minutes 0..minute. */
  async function watchMinute(v: Awaited<ReturnType<typeof viewerWithChannel>>, minute: number): Promise<void> {
    const amount = RATE * BigInt(minute + 1);
    const signature = await v.sessionKey.signTypedData(voucherTypedData(31337, pc().address, v.channelId, amount));
    const { publicKey } = await generateEphemeralKeyPair();
    const res = await fetch(`${srv.url}/api/keys/${item.contentId}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: v.cookie },
      body: JSON.stringify({ channelId: v.channelId.toString(), cumulativeAmount: amount.toString(), signature, ephemeralPublicKey: publicKey, minute, variants: ["high"] }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
  }

  async function travelTo(timestamp: number): Promise<void> {
    await f.rpc("evm_setNextBlockTimestamp", [toHex(timestamp)]);
    await f.rpc("evm_mine");
  }

  before(async () => {
    f = await startChainFixture();
    // One database for the service (writes the vouchers) and the keeper's SQL source (reads them).
    db = await openKeyReleaseDb({ pgliteWorker: false });
    srv = await startFixtureServer(f, {
      db,
      rateLimits: { wallet: { points: 10_000, durationSeconds: 60 }, ip: { points: 100_000, durationSeconds: 60 } },
      logger: { info() {}, warn() {}, error() {} },
    });
    item = await f.registerItem("keeper-1");
    await f.setStreamPrice(item.contentId, RATE);
    keeperAccount = await f.newAccount();
  });
  after(async () => {
    await srv?.close();
    await db?.close();
    await f?.stop();
  });

  it("a creator who never opens the studio is paid for every minute delivered, before the deadline, once", async () => {
    const v = await viewerWithChannel(10n);
    for (let minute = 0; minute < 4; minute++) await watchMinute(v, minute);
    const k = keeper({ thresholdFraction: 1 });
    const before = await creatorBalance();

    // Far from the deadline and below the threshold (the whole deposit): nothing to do yet.
    const early = await k.runOnce();
    expect(early.channels).to.be.greaterThanOrEqual(1);
    expect(early.redeemed).to.deep.equal([]);
    expect((await channel(v.channelId)).redeemed).to.equal(0n);

    // A session-key voucher's deadline is the key's expiry plus the challenge period (3 days here),
    // before the channel's close time (7 days): move to within the margin of it.
    const sessionDeadline = Number((await f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "sessionKeyOf", args: [v.channelId] })).expiresAt) + DAY;
    await travelTo(sessionDeadline - MARGIN + 60);
    const late = await k.runOnce();
    expect(late.failed).to.deep.equal([]);
    const mine = late.redeemed.filter((r) => r.channelId === v.channelId.toString());
    expect(mine.map((r) => ({ paid: r.paid, reason: r.reason }))).to.deep.equal([{ paid: 4n * RATE, reason: "deadline" }]);
    expect((await channel(v.channelId)).redeemed).to.equal(4n * RATE, "four minutes delivered, four paid");
    expect((await creatorBalance()) > before, "the creator's split was credited").to.equal(true);

    // Nothing is redeemed twice: the next pass has nothing left on this channel.
    const again = await k.runOnce();
    expect(again.redeemed.filter((r) => r.channelId === v.channelId.toString())).to.deep.equal([]);
    expect(again.failed).to.deep.equal([]);

    // After the close time the viewer reclaims only what was not streamed.
    await travelTo(Number((await channel(v.channelId)).closesAt) + 1);
    const balance = await f.publicClient.getBalance({ address: v.viewer.address });
    const hash = await f.wallet(v.viewer).writeContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "reclaim", args: [v.channelId] });
    const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
    const gas = receipt.gasUsed * receipt.effectiveGasPrice;
    expect((await f.publicClient.getBalance({ address: v.viewer.address })) - balance + gas).to.equal(6n * RATE);
    // A closed channel is forgotten.
    const closed = await k.runOnce();
    expect(closed.redeemed).to.deep.equal([]);
  });

  it("redeems as soon as the unredeemed amount reaches the threshold, and not before", async () => {
    const v = await viewerWithChannel(4n);
    const k = keeper({ thresholdFraction: 0.5 });
    await watchMinute(v, 0);
    expect((await k.runOnce()).redeemed).to.deep.equal([]);
    await watchMinute(v, 1);
    const pass = await k.runOnce();
    expect(pass.redeemed.map((r) => ({ channelId: r.channelId, paid: r.paid, reason: r.reason }))).to.deep.equal([{ channelId: v.channelId.toString(), paid: 2n * RATE, reason: "threshold" }]);
    expect((await channel(v.channelId)).redeemed).to.equal(2n * RATE);
    // One more minute leaves 1 x RATE unredeemed, under half the deposit: it waits.
    await watchMinute(v, 2);
    expect((await k.runOnce()).redeemed).to.deep.equal([]);
    // An absolute threshold below that redeems it.
    const absolute = await keeper({ thresholdFraction: 1, thresholdAmount: RATE }).runOnce();
    expect(absolute.redeemed.map((r) => ({ paid: r.paid, reason: r.reason }))).to.deep.equal([{ paid: RATE, reason: "threshold" }]);
    expect((await channel(v.channelId)).redeemed).to.equal(3n * RATE);
  });

  it("skips what the creator already redeemed from the studio, without a failed transaction", async () => {
    const v = await viewerWithChannel(4n);
    await watchMinute(v, 0);
    await watchMinute(v, 1);
    const [best] = await srv.service.bestVouchers([v.channelId]);
    await f.write(f.creator, pc().address, ABIS.PaymentChannels, "redeemVoucher", [v.channelId, best!.cumulativeAmount, best!.signature!]);
    const nonce = await f.publicClient.getTransactionCount({ address: keeperAccount.address });
    const pass = await keeper({ thresholdFraction: 0.1 }).runOnce();
    expect(pass.redeemed.filter((r) => r.channelId === v.channelId.toString())).to.deep.equal([]);
    expect(pass.failed).to.deep.equal([]);
    expect(await f.publicClient.getTransactionCount({ address: keeperAccount.address })).to.equal(nonce, "no transaction sent");
  });

  it("reports a voucher whose deadline passed as missed (the keeper ran too rarely)", async () => {
    const v = await viewerWithChannel(10n);
    await watchMinute(v, 0);
    const sk = await f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "sessionKeyOf", args: [v.channelId] });
    await travelTo(Number(sk.expiresAt) + DAY + 1);
    const pass = await keeper({ thresholdFraction: 1 }).runOnce();
    expect(pass.missed).to.include(v.channelId.toString());
    expect(pass.redeemed.filter((r) => r.channelId === v.channelId.toString())).to.deep.equal([]);
  });

  it("refuses a threshold fraction outside (0, 1] with what to set", () => {
    expect(() => keeper({ thresholdFraction: 0 })).to.throw(/thresholdFraction must be in \(0, 1\]/);
    expect(() => keeper({ thresholdFraction: 2 })).to.throw(/thresholdFraction must be in \(0, 1\]/);
  });

  it("the keeper process refuses to start without an account or a voucher source, naming each setting", () => {
    let message = "";
    try {
      keeperSettings({ KEEPER_INTERVAL_SECONDS: "0" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.include("KEEPER_PRIVATE_KEY: set it to the 0x-hex private key of a funded account");
    expect(message).to.include("set DATABASE_URL (the Postgres the web instances share) or KEEPER_VOUCHERS_URL and KEEPER_TOKEN");
    expect(message).to.include("KEEPER_INTERVAL_SECONDS=0: must be a number of seconds above 0");
    const ok = keeperSettings({ KEEPER_PRIVATE_KEY: `0x${"11".repeat(32)}`, DATABASE_URL: "postgresql://x@127.0.0.1/db", KEEPER_THRESHOLD_AMOUNT: "5" });
    expect(ok.thresholdAmount).to.equal(5n);
    expect(ok.closeMarginSeconds).to.equal(3600);
  });
});

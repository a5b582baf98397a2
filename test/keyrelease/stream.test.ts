import { expect } from "chai";
import { parseEther, zeroAddress, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ABIS, contractOf } from "../../lib/deployments/index.ts";
import { voucherTypedData } from "../../lib/keyrelease/channels.ts";
import { startKeyReleaseServer, type KeyReleaseServer } from "../../lib/keyrelease/server.ts";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "../../lib/keyrelease/wrap.ts";
import { SIWE_DOMAIN, SIWE_URI, signIn, startChainFixture, type ChainFixture } from "./fixture.ts";

const RATE = parseEther("0.001");
const DAY = 86_400;

describe("key release: pay-per-minute against payment-channel vouchers", function () {
  this.timeout(60_000);
  let f: ChainFixture;
  let srv: KeyReleaseServer;
  let item: { contentId: Hex; key: Uint8Array };
  let other: { contentId: Hex; key: Uint8Array };
  let viewer: PrivateKeyAccount;
  let sessionKey: PrivateKeyAccount;
  let cookie: string;
  let channelId: bigint;
  let clockOffsetMs = 0;

  const pc = () => contractOf(f.deployment, "PaymentChannels");

  async function chainNow(): Promise<number> {
    return Number((await f.publicClient.getBlock({ blockTag: "latest" })).timestamp);
  }

  async function openChannel(account: PrivateKeyAccount, contentId: Hex, deposit: bigint, session?: { key: Address; spendingCap: bigint }): Promise<bigint> {
    const now = await chainNow();
    await f.write(account, pc().address, ABIS.PaymentChannels, "openChannel", [
      {
        contentId,
        token: zeroAddress,
        deposit,
        ratePerMinute: RATE,
        expiresAt: BigInt(now + 7 * DAY),
        sessionKey: session ? { key: session.key, spendingCap: session.spendingCap, expiresAt: BigInt(now + 2 * DAY) } : { key: zeroAddress, spendingCap: 0n, expiresAt: 0n },
      },
    ], deposit);
    return f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "channelCount" });
  }

  async function sign(signer: PrivateKeyAccount, channel: bigint, amount: bigint): Promise<Hex> {
    return signer.signTypedData(voucherTypedData(31337, pc().address, channel, amount));
  }

  async function stream(contentId: Hex, body: { channelId: bigint; cumulativeAmount: bigint; signature: Hex }, sessionCookie = cookie) {
    const client = await generateEphemeralKeyPair();
    const res = await fetch(`${srv.url}/api/keys/${contentId}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: sessionCookie },
      body: JSON.stringify({ channelId: body.channelId.toString(), cumulativeAmount: body.cumulativeAmount.toString(), signature: body.signature, ephemeralPublicKey: client.publicKey }),
    });
    const json = (await res.json()) as Record<string, unknown> & { wrapped: WrappedKey; wallet: string; segments: { from: number; to: number }; error: string; message: string; nextVoucherMinimum: string };
    return { status: res.status, body: json, privateKey: client.privateKey };
  }

  async function expectReleased(r: Awaited<ReturnType<typeof stream>>, contentId: Hex, key: Uint8Array) {
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    const out = await unwrapContentKey({ privateKey: r.privateKey, wrapped: r.body.wrapped, contentId, wallet: r.body.wallet });
    expect(Buffer.from(out).equals(Buffer.from(key))).to.equal(true);
  }

  before(async () => {
    f = await startChainFixture();
    srv = await startKeyReleaseServer({
      port: 0,
      publicClient: f.publicClient,
      deployment: f.deployment,
      keyStore: f.keyStore,
      siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI },
      rateLimits: { wallet: { points: 1000, durationSeconds: 60 }, ip: { points: 100_000, durationSeconds: 60 } },
      logger: { info() {}, warn() {}, error() {} },
      // Long sessions so the server clock can be moved near a channel's close time.
      sessionTtlSeconds: 30 * DAY,
      now: () => Date.now() + clockOffsetMs,
    });
    item = await f.registerItem("ppm-1");
    other = await f.registerItem("ppm-2");
    viewer = await f.newAccount();
    sessionKey = privateKeyToAccount(generatePrivateKey());
    channelId = await openChannel(viewer, item.contentId, 5n * RATE, { key: sessionKey.address, spendingCap: 3n * RATE });
    cookie = await signIn(srv.url, viewer);
  });
  after(async () => {
    await srv?.close();
    await f?.stop();
  });

  it("first minute needs no payment yet; the next requires a voucher covering the minute delivered (too small refused)", async () => {
    const first = await stream(item.contentId, { channelId, cumulativeAmount: 0n, signature: await sign(viewer, channelId, 0n) });
    await expectReleased(first, item.contentId, item.key);
    expect(first.body.segments).to.deep.equal({ from: 0, to: 6 });
    expect(first.body.nextVoucherMinimum).to.equal(RATE.toString());

    const tooSmall = await stream(item.contentId, { channelId, cumulativeAmount: RATE - 1n, signature: await sign(viewer, channelId, RATE - 1n) });
    expect(tooSmall.status).to.equal(402);
    expect(tooSmall.body.error).to.equal("voucher_too_small");
    expect(tooSmall.body.message).to.equal(`voucher too small: 1 minute(s) delivered at ${RATE} per minute need cumulativeAmount >= ${RATE}`);

    const paid = await stream(item.contentId, { channelId, cumulativeAmount: RATE, signature: await sign(viewer, channelId, RATE) });
    await expectReleased(paid, item.contentId, item.key);
    expect(paid.body.segments).to.deep.equal({ from: 6, to: 12 });
  });

  it("a voucher signed by the channel's live session key is accepted, within its spending cap only", async () => {
    const byKey = await stream(item.contentId, { channelId, cumulativeAmount: 2n * RATE, signature: await sign(sessionKey, channelId, 2n * RATE) });
    await expectReleased(byKey, item.contentId, item.key);
    expect(byKey.body.segments).to.deep.equal({ from: 12, to: 18 });
    const overCap = await stream(item.contentId, { channelId, cumulativeAmount: 4n * RATE, signature: await sign(sessionKey, channelId, 4n * RATE) });
    expect(overCap.status).to.equal(402);
    expect(overCap.body.error).to.equal("over_spending_cap");
    const stranger = privateKeyToAccount(generatePrivateKey());
    const forged = await stream(item.contentId, { channelId, cumulativeAmount: 3n * RATE, signature: await sign(stranger, channelId, 3n * RATE) });
    expect(forged.status).to.equal(403);
    expect(forged.body.error).to.equal("bad_voucher_signature");
  });

  it("refuses a voucher signed for another channel, a channel of another content, and someone else's channel", async () => {
    const second = await openChannel(viewer, item.contentId, 5n * RATE);
    // Signed for channel `second`, submitted for `channelId`: recovers to an unrelated signer.
    const crossed = await stream(item.contentId, { channelId, cumulativeAmount: 3n * RATE, signature: await sign(viewer, second, 3n * RATE) });
    expect(crossed.status).to.equal(403);
    expect(crossed.body.error).to.equal("bad_voucher_signature");

    const forOther = await openChannel(viewer, other.contentId, 5n * RATE);
    const wrongContent = await stream(item.contentId, { channelId: forOther, cumulativeAmount: 0n, signature: await sign(viewer, forOther, 0n) });
    expect(wrongContent.status).to.equal(403);
    expect(wrongContent.body.error).to.equal("wrong_content");
    // The same channel works for its own content.
    await expectReleased(await stream(other.contentId, { channelId: forOther, cumulativeAmount: 0n, signature: await sign(viewer, forOther, 0n) }), other.contentId, other.key);

    const someoneElse = await f.newAccount();
    const theirs = await openChannel(someoneElse, item.contentId, 5n * RATE);
    const notMine = await stream(item.contentId, { channelId: theirs, cumulativeAmount: 0n, signature: await sign(someoneElse, theirs, 0n) });
    expect(notMine.status).to.equal(403);
    expect(notMine.body.error).to.equal("not_your_channel");

    const unknown = await stream(item.contentId, { channelId: 999n, cumulativeAmount: 0n, signature: await sign(viewer, 999n, 0n) });
    expect(unknown.status).to.equal(404);
  });

  it("stops when the deposit cannot pay another minute, and refuses a closing channel", async () => {
    const small = await openChannel(viewer, item.contentId, 2n * RATE);
    await expectReleased(await stream(item.contentId, { channelId: small, cumulativeAmount: 0n, signature: await sign(viewer, small, 0n) }), item.contentId, item.key);
    await expectReleased(await stream(item.contentId, { channelId: small, cumulativeAmount: RATE, signature: await sign(viewer, small, RATE) }), item.contentId, item.key);
    const exhausted = await stream(item.contentId, { channelId: small, cumulativeAmount: 2n * RATE, signature: await sign(viewer, small, 2n * RATE) });
    expect(exhausted.status).to.equal(402);
    expect(exhausted.body.error).to.equal("deposit_exhausted");
    expect(exhausted.body.message).to.match(/top up the channel/);

    await f.write(viewer, pc().address, ABIS.PaymentChannels, "requestClose", [small]);
    const closing = await stream(item.contentId, { channelId: small, cumulativeAmount: 2n * RATE, signature: await sign(viewer, small, 2n * RATE) });
    expect(closing.status).to.equal(403);
    expect(closing.body.error).to.equal("channel_not_open");
  });

  it("refuses a channel that closes too soon for the creator to redeem (10 min margin)", async () => {
    const soon = await openChannel(viewer, item.contentId, 5n * RATE);
    const closesAt = Number((await f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "getChannel", args: [soon] })).closesAt);
    clockOffsetMs = closesAt * 1000 - Date.now() - 300_000;
    try {
      const r = await stream(item.contentId, { channelId: soon, cumulativeAmount: 0n, signature: await sign(viewer, soon, 0n) });
      expect(r.status).to.equal(403);
      expect(r.body.error).to.equal("channel_closing_soon");
      expect(r.body.message).to.match(/extend it with topUp or open a new channel/);
    } finally {
      clockOffsetMs = 0;
    }
    await expectReleased(await stream(item.contentId, { channelId: soon, cumulativeAmount: 0n, signature: await sign(viewer, soon, 0n) }), item.contentId, item.key);
  });

  it("tracks delivered minutes and the best voucher server-side, audits each decision and counts segment plays", async () => {
    const row = (await srv.service.db.query<{ delivered_segments: number; last_amount: string; last_signature: string }>(
      "SELECT delivered_segments, last_amount, last_signature FROM stream_channels WHERE channel_id = $1",
      [channelId.toString()],
    )).rows[0]!;
    expect(Number(row.delivered_segments)).to.equal(18);
    expect(BigInt(String(row.last_amount))).to.equal(2n * RATE);
    expect(row.last_signature).to.equal(await sign(sessionKey, channelId, 2n * RATE));
    const audit = (await srv.service.db.query<{ outcome: string; reason: string }>(
      "SELECT outcome, reason FROM audit_log WHERE event = 'stream-release' AND channel_id = $1 ORDER BY id",
      [channelId.toString()],
    )).rows;
    expect(audit.map((r) => `${r.outcome}:${r.reason}`)).to.deep.equal([
      "allowed:voucher",
      "denied:voucher_too_small",
      "allowed:voucher",
      "allowed:session-key-voucher",
      "denied:over_spending_cap",
      "denied:bad_voucher_signature",
      "denied:bad_voucher_signature",
    ]);
    const plays = (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as { segments: number; minutesStreamed: number; keyReleases: number };
    expect(plays.segments).to.equal(6 * 6);
    expect(plays.minutesStreamed).to.equal(6);
    expect(plays.keyReleases).to.equal(0);
  });

  it("refuses concurrent requests racing on one channel: exactly one minute is delivered per accepted voucher state", async () => {
    const race = await openChannel(viewer, item.contentId, 5n * RATE);
    const signature = await sign(viewer, race, 0n);
    const results = await Promise.all([0, 1, 2, 3].map(() => stream(item.contentId, { channelId: race, cumulativeAmount: 0n, signature })));
    const statuses = results.map((r) => r.status).sort();
    // Each request checked "0 minutes delivered"; only one may advance from that state.
    expect(statuses.filter((s) => s === 200)).to.have.length(1);
    expect(statuses.filter((s) => s === 409 || s === 402)).to.have.length(3);
    const row = (await srv.service.db.query<{ delivered_segments: number }>("SELECT delivered_segments FROM stream_channels WHERE channel_id = $1", [race.toString()])).rows[0]!;
    expect(Number(row.delivered_segments)).to.equal(6);
  });
});

import { expect } from "chai";
import { parseEther, zeroAddress, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ContentEncryptor, decryptSegment, deriveMinuteKey, keyIdOf, SegmentDecryptError } from "@streamvault/lib/crypto";
import { segmentMinutes } from "@streamvault/lib/manifest";
import { ABIS, contractOf } from "@streamvault/lib/deployments";
import { voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import type { StreamReleaseResponse } from "@streamvault/lib/keyrelease/service.ts";
import { generateEphemeralKeyPair, unwrapContentKey, UnwrapError } from "@streamvault/lib/keyrelease/wrap.ts";
import { signIn, startChainFixture, type ChainFixture, startFixtureServer } from "./fixture.ts";

const RATE = parseEther("0.001");
const DAY = 86_400;

interface StreamBody {
  channelId: bigint;
  cumulativeAmount: bigint;
  signature: Hex;
  minute?: unknown;
  variants?: unknown;
}

describe("key release: pay-per-minute, one key per minute window against payment-channel vouchers", function () {
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

  /** A voucher signed by `signer` for `amount` on `channel`, asking for `minute` of `variants`. */
  async function voucher(signer: PrivateKeyAccount, channel: bigint, amount: bigint, minute: number, variants: string[] = ["high"]): Promise<StreamBody> {
    return { channelId: channel, cumulativeAmount: amount, signature: await sign(signer, channel, amount), minute, variants };
  }

  async function stream(contentId: Hex, body: StreamBody, sessionCookie = cookie) {
    const client = await generateEphemeralKeyPair();
    const res = await fetch(`${srv.url}/api/keys/${contentId}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: sessionCookie },
      body: JSON.stringify({
        channelId: body.channelId.toString(),
        cumulativeAmount: body.cumulativeAmount.toString(),
        signature: body.signature,
        ephemeralPublicKey: client.publicKey,
        minute: body.minute,
        variants: body.variants,
      }),
    });
    const json = (await res.json()) as StreamReleaseResponse & { error: string; message: string; requiredAmount: string };
    return { status: res.status, body: json, privateKey: client.privateKey };
  }

  /** Unwraps every released key (under its minute label) and checks it is that minute's key of that variant, never the content key. */
  async function expectMinuteKeys(r: Awaited<ReturnType<typeof stream>>, contentId: Hex, contentKey: Uint8Array, minute: number, variants: string[] = ["high"]): Promise<Map<string, Uint8Array>> {
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body.minute).to.equal(minute);
    expect(r.body.keys.map((k) => k.variant)).to.deep.equal(variants);
    expect(JSON.stringify(r.body)).to.not.include(keyIdOf(contentKey));
    const out = new Map<string, Uint8Array>();
    for (const k of r.body.keys) {
      expect(k.minute).to.equal(minute);
      const label = `minute/${k.variant}/${minute}`;
      const key = await unwrapContentKey({ privateKey: r.privateKey, wrapped: k.wrapped, contentId, wallet: r.body.wallet, label });
      expect(Buffer.from(key).equals(Buffer.from(deriveMinuteKey(contentKey, contentId, k.variant, minute))), `${label} is that minute's key`).to.equal(true);
      expect(Buffer.from(key).equals(Buffer.from(contentKey)), "never the content key").to.equal(false);
      expect(k.keyId).to.equal(keyIdOf(key));
      // The wrap is bound to its label: it does not unwrap as the content key or as another minute.
      for (const wrong of [undefined, `minute/${k.variant}/${minute + 1}`]) {
        let error: unknown;
        await unwrapContentKey({ privateKey: r.privateKey, wrapped: k.wrapped, contentId, wallet: r.body.wallet, label: wrong }).catch((e) => (error = e));
        expect(error).to.be.instanceOf(UnwrapError);
      }
      out.set(k.variant, key);
    }
    return out;
  }

  before(async () => {
    f = await startChainFixture();
    srv = await startFixtureServer(f, {
      rateLimits: { wallet: { points: 1000, durationSeconds: 60 }, ip: { points: 100_000, durationSeconds: 60 } },
      logger: { info() {}, warn() {}, error() {} },
      // Long sessions so the server clock can be moved near a channel's close time.
      sessionTtlSeconds: 30 * DAY,
      now: () => Date.now() + clockOffsetMs,
    });
    item = await f.registerItem("ppm-1");
    other = await f.registerItem("ppm-2");
    await f.setStreamPrice(item.contentId, RATE);
    await f.setStreamPrice(other.contentId, RATE);
    viewer = await f.newAccount();
    sessionKey = privateKeyToAccount(generatePrivateKey());
    channelId = await openChannel(viewer, item.contentId, 5n * RATE, { key: sessionKey.address, spendingCap: 3n * RATE });
    cookie = await signIn(srv.url, viewer);
  });
  after(async () => {
    await srv?.close();
    await f?.stop();
  });

  it("minute 0 is released against a voucher paying for it; its key decrypts minute 0's segments and not minute 1's", async () => {
    // Segments the way the pipeline seals them: 10 s each, under their minute window's key.
    const durations = [10, 10, 10, 10, 10, 10, 10, 10];
    const minutes = segmentMinutes(durations);
    const enc = new ContentEncryptor(item.contentId, item.key);
    const segments = minutes.map((minute, index) => {
      const plain = new Uint8Array(1000).fill(index);
      return { index, minute, plain, ...enc.encrypt("high", index, plain, minute) };
    });
    const open = (key: Uint8Array, s: (typeof segments)[number]) => decryptSegment(key, s.nonce, { contentId: item.contentId, variant: "high", index: s.index }, s.sealed);

    // Every minute received is paid by the voucher that asks for it, the first one too.
    const free = await stream(item.contentId, await voucher(viewer, channelId, 0n, 0));
    expect(free.status).to.equal(402);
    expect(free.body.error).to.equal("voucher_too_small");
    expect(free.body.requiredAmount).to.equal(RATE.toString());
    expect(free.body.message).to.equal(`voucher too small: minute 0 would be minute 1 received on this channel (0 so far): it is released once 1 minute is paid (1 x ${RATE}): sign cumulativeAmount >= ${RATE}`);
    const first = await stream(item.contentId, await voucher(viewer, channelId, RATE, 0));
    const key0 = (await expectMinuteKeys(first, item.contentId, item.key, 0)).get("high")!;
    expect(first.body.minutesDelivered).to.equal(1);
    expect(first.body.nextVoucherMinimum).to.equal((2n * RATE).toString());
    for (const s of segments.filter((x) => x.minute === 0)) expect(Buffer.from(open(key0, s)).equals(Buffer.from(s.plain))).to.equal(true);
    for (const s of segments.filter((x) => x.minute === 1)) expect(() => open(key0, s)).to.throw(SegmentDecryptError);

    // Minute 1 needs both minutes paid.
    const unpaid = await stream(item.contentId, await voucher(viewer, channelId, RATE, 1));
    expect(unpaid.status).to.equal(402);
    expect(unpaid.body.error).to.equal("voucher_too_small");
    expect(unpaid.body.requiredAmount).to.equal((2n * RATE).toString());
    expect(unpaid.body.message).to.equal(`voucher too small: minute 1 would be minute 2 received on this channel (1 so far): it is released once 2 minutes are paid (2 x ${RATE}): sign cumulativeAmount >= ${2n * RATE}`);
    const tooSmall = await stream(item.contentId, await voucher(viewer, channelId, 2n * RATE - 1n, 1));
    expect(tooSmall.status).to.equal(402);

    const paid = await stream(item.contentId, await voucher(viewer, channelId, 2n * RATE, 1));
    const key1 = (await expectMinuteKeys(paid, item.contentId, item.key, 1)).get("high")!;
    expect(paid.body.minutesDelivered).to.equal(2);
    expect(paid.body.nextVoucherMinimum).to.equal((3n * RATE).toString());
    for (const s of segments.filter((x) => x.minute === 1)) expect(Buffer.from(open(key1, s)).equals(Buffer.from(s.plain))).to.equal(true);
    for (const s of segments.filter((x) => x.minute === 0)) expect(() => open(key1, s)).to.throw(SegmentDecryptError);
  });

  it("a new minute is refused without a voucher paying for every minute received with it; a minute received before costs nothing more", async () => {
    // Skipping ahead to minute 3 makes it the third minute received: 3 x rate, not 4.
    const short = await stream(item.contentId, await voucher(viewer, channelId, 2n * RATE, 3));
    expect(short.status).to.equal(402);
    expect(short.body.error).to.equal("voucher_too_small");
    expect(short.body.requiredAmount).to.equal((3n * RATE).toString());
    expect(short.body.message).to.match(/minute 3 would be minute 3 received on this channel \(2 so far\)/);
    // An earlier minute again (seek back, another quality) needs what was paid, nothing more, and not less.
    const less = await stream(item.contentId, await voucher(viewer, channelId, RATE, 0));
    expect(less.status).to.equal(402);
    expect(less.body.message).to.match(/minute 0 was received on this channel already; the voucher must still cover the 2 minutes received/);
    await expectMinuteKeys(await stream(item.contentId, await voucher(viewer, channelId, 2n * RATE, 0, ["high", "standard"])), item.contentId, item.key, 0, ["high", "standard"]);
  });

  it("releases one key per requested variant, each that variant's own; rejects malformed minute and variants", async () => {
    const r = await stream(item.contentId, await voucher(viewer, channelId, 2n * RATE, 1, ["high", "standard", "720p"]));
    const keys = await expectMinuteKeys(r, item.contentId, item.key, 1, ["high", "standard", "720p"]);
    expect(new Set([...keys.values()].map((k) => Buffer.from(k).toString("hex"))).size).to.equal(3);
    for (const [what, patch] of [
      ["no minute", { minute: undefined }],
      ["a fractional minute", { minute: 1.5 }],
      ["a negative minute", { minute: -1 }],
      ["a minute as text", { minute: "1" }],
      ["no variants", { variants: undefined }],
      ["empty variants", { variants: [] }],
      ["a bad variant name", { variants: ["../high"] }],
      ["duplicate variants", { variants: ["high", "high"] }],
      ["too many variants", { variants: ["a", "b", "c", "d", "e", "f", "g", "h", "i"] }],
    ] as const) {
      const bad = await stream(item.contentId, { ...(await voucher(viewer, channelId, RATE, 1)), ...patch });
      expect(bad.status, what).to.equal(400);
      expect(bad.body.error, what).to.match(/^bad_(minute|variants)$/);
    }
  });

  it("a voucher signed by the channel's live session key is accepted, within its spending cap only", async () => {
    const byKey = await stream(item.contentId, await voucher(sessionKey, channelId, 3n * RATE, 2));
    await expectMinuteKeys(byKey, item.contentId, item.key, 2);
    expect(byKey.body.minutesDelivered).to.equal(3);
    const overCap = await stream(item.contentId, await voucher(sessionKey, channelId, 4n * RATE, 3));
    expect(overCap.status).to.equal(402);
    expect(overCap.body.error).to.equal("over_spending_cap");
    const stranger = privateKeyToAccount(generatePrivateKey());
    const forged = await stream(item.contentId, await voucher(stranger, channelId, 3n * RATE, 3));
    expect(forged.status).to.equal(403);
    expect(forged.body.error).to.equal("bad_voucher_signature");
  });

  it("refuses a voucher signed for another channel, a channel of another content, and someone else's channel", async () => {
    const second = await openChannel(viewer, item.contentId, 5n * RATE);
    // Signed for channel `second`, submitted for `channelId`: recovers to an unrelated signer.
    const crossed = await stream(item.contentId, { channelId, cumulativeAmount: 3n * RATE, signature: await sign(viewer, second, 3n * RATE), minute: 3, variants: ["high"] });
    expect(crossed.status).to.equal(403);
    expect(crossed.body.error).to.equal("bad_voucher_signature");

    const forOther = await openChannel(viewer, other.contentId, 5n * RATE);
    const wrongContent = await stream(item.contentId, await voucher(viewer, forOther, 0n, 0));
    expect(wrongContent.status).to.equal(403);
    expect(wrongContent.body.error).to.equal("wrong_content");
    // The same channel works for its own content, with that content's minute keys.
    await expectMinuteKeys(await stream(other.contentId, await voucher(viewer, forOther, RATE, 0)), other.contentId, other.key, 0);

    const someoneElse = await f.newAccount();
    const theirs = await openChannel(someoneElse, item.contentId, 5n * RATE);
    const notMine = await stream(item.contentId, await voucher(someoneElse, theirs, 0n, 0));
    expect(notMine.status).to.equal(403);
    expect(notMine.body.error).to.equal("not_your_channel");

    const unknown = await stream(item.contentId, await voucher(viewer, 999n, 0n, 0));
    expect(unknown.status).to.equal(404);
  });

  it("stops when the deposit cannot pay the minute asked for, and refuses a closing channel", async () => {
    const small = await openChannel(viewer, item.contentId, 2n * RATE);
    await expectMinuteKeys(await stream(item.contentId, await voucher(viewer, small, RATE, 0)), item.contentId, item.key, 0);
    await expectMinuteKeys(await stream(item.contentId, await voucher(viewer, small, 2n * RATE, 1)), item.contentId, item.key, 1);
    const exhausted = await stream(item.contentId, await voucher(viewer, small, 3n * RATE, 2));
    expect(exhausted.status).to.equal(402);
    expect(exhausted.body.error).to.equal("deposit_exhausted");
    expect(exhausted.body.message).to.match(/top up the channel/);

    await f.write(viewer, pc().address, ABIS.PaymentChannels, "requestClose", [small]);
    const closing = await stream(item.contentId, await voucher(viewer, small, 2n * RATE, 1));
    expect(closing.status).to.equal(403);
    expect(closing.body.error).to.equal("channel_not_open");
  });

  it("refuses a channel that closes too soon for the creator to redeem (10 min margin)", async () => {
    const soon = await openChannel(viewer, item.contentId, 5n * RATE);
    const closesAt = Number((await f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "getChannel", args: [soon] })).closesAt);
    clockOffsetMs = closesAt * 1000 - Date.now() - 300_000;
    try {
      const r = await stream(item.contentId, await voucher(viewer, soon, 0n, 0));
      expect(r.status).to.equal(403);
      expect(r.body.error).to.equal("channel_closing_soon");
      expect(r.body.message).to.match(/extend it with topUp or open a new channel/);
    } finally {
      clockOffsetMs = 0;
    }
    await expectMinuteKeys(await stream(item.contentId, await voucher(viewer, soon, RATE, 0)), item.contentId, item.key, 0);
  });

  it("tracks delivered minutes and the best voucher server-side, audits each decision and counts each minute's segments once", async () => {
    const row = (await srv.service.db.query<{ delivered_segments: number; last_amount: string; last_signature: string }>(
      "SELECT delivered_segments, last_amount, last_signature FROM stream_channels WHERE channel_id = $1",
      [channelId.toString()],
    )).rows[0]!;
    expect(Number(row.delivered_segments)).to.equal(18); // minutes 0, 1 and 2
    expect(BigInt(String(row.last_amount))).to.equal(3n * RATE);
    expect(row.last_signature).to.equal(await sign(sessionKey, channelId, 3n * RATE));
    const audit = (await srv.service.db.query<{ outcome: string; reason: string }>(
      "SELECT outcome, reason FROM audit_log WHERE event = 'stream-release' AND channel_id = $1 ORDER BY id",
      [channelId.toString()],
    )).rows;
    expect(audit.map((r) => `${r.outcome}:${r.reason}`)).to.deep.equal([
      "denied:voucher_too_small",
      "allowed:voucher",
      "denied:voucher_too_small",
      "denied:voucher_too_small",
      "allowed:voucher",
      "denied:voucher_too_small",
      "denied:voucher_too_small",
      "allowed:voucher",
      "allowed:voucher",
      ...Array(9).fill("denied:bad_minute").map((x, i) => (i < 4 ? x : "denied:bad_variants")),
      "allowed:session-key-voucher",
      "denied:over_spending_cap",
      "denied:bad_voucher_signature",
      "denied:bad_voucher_signature",
    ]);
    // This item: channel 1 (minutes 0-2), the small channel (0, 1), the late one (0): 6 minute windows, however often each was asked for.
    const plays = (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as { segments: number; minutesStreamed: number; keyReleases: number };
    expect(plays.minutesStreamed).to.equal(6);
    expect(plays.segments).to.equal(6 * 6);
    expect(plays.keyReleases).to.equal(0);
  });

  it("concurrent requests for one minute are all served and count that minute once", async () => {
    const race = await openChannel(viewer, item.contentId, 5n * RATE);
    const body = await voucher(viewer, race, RATE, 0);
    const results = await Promise.all([0, 1, 2, 3].map(() => stream(item.contentId, body)));
    for (const r of results) await expectMinuteKeys(r, item.contentId, item.key, 0);
    const row = (await srv.service.db.query<{ delivered_segments: number }>("SELECT delivered_segments FROM stream_channels WHERE channel_id = $1", [race.toString()])).rows[0]!;
    expect(Number(row.delivered_segments)).to.equal(6);
    const plays = (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as { minutesStreamed: number };
    expect(plays.minutesStreamed).to.equal(7);

    // Two new minutes at once on one voucher paying for one more: exactly one is released.
    const both = await Promise.all([5, 6].map(async (m) => stream(item.contentId, await voucher(viewer, race, 2n * RATE, m))));
    expect(both.map((r) => r.status).sort()).to.deep.equal([200, 402]);
    expect(both.find((r) => r.status === 402)!.body.requiredAmount).to.equal((3n * RATE).toString());
  });

  it("a late joiner pays for the minutes received: joining at minute 5, 1 x rate gets minute 5, minute 6 needs 2 x rate, and the creator redeems exactly that", async () => {
    const late = await f.newAccount();
    const lateCookie = await signIn(srv.url, late);
    // A 3-minute deposit is enough for a viewer who joins at minute 5: the minutes before are never paid.
    const ch = await openChannel(late, item.contentId, 3n * RATE);
    const joined = await stream(item.contentId, await voucher(late, ch, RATE, 5), lateCookie);
    await expectMinuteKeys(joined, item.contentId, item.key, 5);
    expect(joined.body.minutesDelivered).to.equal(1);
    expect(joined.body.nextVoucherMinimum).to.equal((2n * RATE).toString());
    // The same voucher does not buy another minute.
    const unpaid = await stream(item.contentId, await voucher(late, ch, RATE, 6), lateCookie);
    expect(unpaid.status).to.equal(402);
    expect(unpaid.body.error).to.equal("voucher_too_small");
    expect(unpaid.body.requiredAmount).to.equal((2n * RATE).toString());
    const next = await stream(item.contentId, await voucher(late, ch, 2n * RATE, 6), lateCookie);
    await expectMinuteKeys(next, item.contentId, item.key, 6);
    expect(next.body.minutesDelivered).to.equal(2);
    // Seeking back into the DVR window (minute 2) is a third minute received: 3 x rate, the whole deposit.
    expect((await stream(item.contentId, await voucher(late, ch, 2n * RATE, 2), lateCookie)).status).to.equal(402);
    // Minute 5 again (another quality) costs nothing more.
    await expectMinuteKeys(await stream(item.contentId, await voucher(late, ch, 2n * RATE, 5, ["standard"]), lateCookie), item.contentId, item.key, 5, ["standard"]);

    const [best] = await srv.service.bestVouchers([ch]);
    expect([best!.cumulativeAmount, best!.deliveredSegments]).to.deep.equal([2n * RATE, 12]);
    await f.write(f.creator, pc().address, ABIS.PaymentChannels, "redeemVoucher", [ch, best!.cumulativeAmount, best!.signature!]);
    const state = await f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "getChannel", args: [ch] });
    expect(state.redeemed).to.equal(2n * RATE, "two minutes received, two paid");
  });

  it("a voucher signed with v = 0/1 is kept in the form the contract verifies (v = 27/28), and the creator redeems it on chain (issue 10 #1)", async () => {
    const ch = await openChannel(viewer, item.contentId, 5n * RATE);
    const withParity = (signature: Hex, v: number) => (signature.slice(0, -2) + v.toString(16).padStart(2, "0")) as Hex;
    const signed = await sign(viewer, ch, RATE);
    const v = parseInt(signed.slice(-2), 16);
    expect([27, 28]).to.include(v);
    // The same signature with its recovery id as y-parity (0/1), as some wallets and libraries emit it.
    const parity = withParity(signed, v - 27);
    const r = await stream(item.contentId, { channelId: ch, cumulativeAmount: RATE, signature: parity, minute: 1, variants: ["high"] });
    await expectMinuteKeys(r, item.contentId, item.key, 1);
    const row = (await srv.service.db.query<{ last_amount: string; last_signature: string }>("SELECT last_amount, last_signature FROM stream_channels WHERE channel_id = $1", [ch.toString()])).rows[0]!;
    expect(BigInt(String(row.last_amount))).to.equal(RATE);
    expect(row.last_signature).to.equal(signed);
    // What the studio hands the creator's wallet is redeemable: redeemVoucher pays the split.
    await f.write(f.creator, pc().address, ABIS.PaymentChannels, "redeemVoucher", [ch, RATE, row.last_signature]);
    const state = await f.publicClient.readContract({ address: pc().address, abi: ABIS.PaymentChannels, functionName: "getChannel", args: [ch] });
    expect(state.redeemed).to.equal(RATE);

    // A recovery id the contract never accepts (neither 27/28 nor 0/1) is refused, saying what to send.
    for (const bad of [2, 29, 0xff]) {
      const refused = await stream(item.contentId, { channelId: ch, cumulativeAmount: 2n * RATE, signature: withParity(await sign(viewer, ch, 2n * RATE), bad), minute: 1, variants: ["high"] });
      expect(refused.status, `v = ${bad}`).to.equal(403);
      expect(refused.body.error).to.equal("bad_voucher_signature");
      expect(refused.body.message).to.match(/v must be 27 or 28/);
    }
  });
});

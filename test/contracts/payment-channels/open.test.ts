/**
 * PaymentChannels, openChannel: native and ERC-20 deposits, session keys, and every revert (deposit, expiry, token, payment, pause, stream price).
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { keccak256, parseEventLogs, toHex } from "viem";
import { DAY, NATIVE, addr, register, viem } from "../fixture.ts";
import { time, loadFixture, RATE, DEPOSIT, STABLE_RATE, STABLE_DEPOSIT, Status, sessionKey, channelsFixture, noSessionKey, now, offer, open, sign } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("openChannel", () => {
    it("opens a native channel without a session key and escrows msg.value", async () => {
      const f = await loadFixture(channelsFixture);
      const expiresAt = (await now()) + 7n * DAY;
      const params = {
        contentId: f.contentId,
        token: NATIVE,
        deposit: DEPOSIT,
        ratePerMinute: RATE,
        expiresAt,
        sessionKey: noSessionKey,
      };
      const tx = f.channels.write.openChannel([params], { account: f.fan.account, value: DEPOSIT });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.fan), amount: -DEPOSIT },
        { address: f.channels.address, amount: DEPOSIT },
      ]);
      await viem.assertions.emitWithArgs(tx, f.channels, "ChannelOpened", [
        1n,
        addr(f.fan),
        addr(f.creator),
        f.contentId,
        NATIVE,
        DEPOSIT,
        RATE,
        expiresAt,
      ]);
      expect(await f.channels.read.channelCount()).to.equal(1n);
      // (The agreed rate lives in ChannelOpened; whether storage also keeps it is an implementation detail.)
      expect(await f.channels.read.getChannel([1n])).to.deep.include({
        viewer: addr(f.fan),
        closesAt: expiresAt,
        status: Status.Open,
        token: NATIVE,
        deposit: DEPOSIT,
        redeemed: 0n,
        contentId: f.contentId,
      });
      expect(await f.channels.read.sessionKeyOf([1n])).to.deep.equal(noSessionKey);
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash: await tx });
      const authorized = parseEventLogs({ abi: f.channels.abi, eventName: "SessionKeyAuthorized", logs: receipt.logs });
      expect(authorized).to.have.length(0);
    });

    it("opens a native channel with a session key", async () => {
      const f = await loadFixture(channelsFixture);
      const skExpiry = (await now()) + 2n * DAY;
      const sk = { key: sessionKey.address, spendingCap: 120n * RATE, expiresAt: skExpiry };
      const { id, hash } = await open(f, { sessionKey: sk });
      await viem.assertions.emitWithArgs(hash, f.channels, "SessionKeyAuthorized", [
        id,
        sessionKey.address,
        120n * RATE,
        skExpiry,
      ]);
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(sk);
    });

    it("opens an ERC-20 (mock stablecoin) channel by transferFrom", async () => {
      const f = await loadFixture(channelsFixture);
      const fanBefore = await f.stable.read.balanceOf([addr(f.fan)]);
      const { id, hash, expiresAt } = await open(f, { token: f.stable.address });
      await viem.assertions.emitWithArgs(hash, f.channels, "ChannelOpened", [
        id,
        addr(f.fan),
        addr(f.creator),
        f.contentId,
        f.stable.address,
        STABLE_DEPOSIT,
        STABLE_RATE,
        expiresAt,
      ]);
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(fanBefore - STABLE_DEPOSIT);
      expect(await f.stable.read.balanceOf([f.channels.address])).to.equal(STABLE_DEPOSIT);
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.token).to.equal(f.stable.address);
      expect(ch.deposit).to.equal(STABLE_DEPOSIT);
      expect(ch.status).to.equal(Status.Open);
    });

    it("opens an ERC-20 channel with a session key", async () => {
      const f = await loadFixture(channelsFixture);
      const sk = { key: sessionKey.address, spendingCap: STABLE_DEPOSIT, expiresAt: (await now()) + DAY };
      const { id, hash } = await open(f, { token: f.stable.address, sessionKey: sk });
      await viem.assertions.emitWithArgs(hash, f.channels, "SessionKeyAuthorized", [
        id,
        sk.key,
        sk.spendingCap,
        sk.expiresAt,
      ]);
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(sk);
      const sig = await sign(f, sessionKey, id, STABLE_RATE);
      await f.channels.write.redeemVoucher([id, STABLE_RATE, sig], { account: f.creator.account });
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(STABLE_RATE);
    });

    it("numbers channels consecutively per contract", async () => {
      const f = await loadFixture(channelsFixture);
      const a = await open(f);
      const b = await open(f, { viewer: f.fan2, contentId: f.soloContentId });
      expect(a.id).to.equal(1n);
      expect(b.id).to.equal(2n);
      expect((await f.channels.read.getChannel([2n])).viewer).to.equal(addr(f.fan2));
      expect((await f.channels.read.getChannel([2n])).contentId).to.equal(f.soloContentId);
    });

    it("reverts ZeroDeposit", async () => {
      const f = await loadFixture(channelsFixture);
      await viem.assertions.revertWithCustomError(open(f, { deposit: 0n }), f.channels, "ZeroDeposit");
    });

    it("reverts ExpiryTooSoon below now + CHALLENGE_PERIOD, accepts exactly that", async () => {
      const f = await loadFixture(channelsFixture);
      const t = (await now()) + 100n;
      await time.setNextBlockTimestamp(t);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { expiresAt: t + DAY - 1n }),
        f.channels,
        "ExpiryTooSoon",
        [t + DAY - 1n, t + DAY],
      );
      const t2 = (await now()) + 100n;
      await time.setNextBlockTimestamp(t2);
      const { id } = await open(f, { expiresAt: t2 + DAY });
      expect((await f.channels.read.getChannel([id])).closesAt).to.equal(t2 + DAY);
    });

    it("reverts TokenNotAccepted for a token ContentAccess does not allow", async () => {
      const f = await loadFixture(channelsFixture);
      const notAllowed = addr(f.stranger);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { token: notAllowed, offer: false }),
        f.channels,
        "TokenNotAccepted",
        [notAllowed],
      );
      // A token disallowed after the creator priced the item in it is refused too.
      await offer(f, f.contentId, f.stable.address);
      await f.contentAccess.write.setPaymentToken([f.stable.address, false]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { token: f.stable.address, offer: false }),
        f.channels,
        "TokenNotAccepted",
        [f.stable.address],
      );
    });

    it("reverts for unknown content (UnknownContent from ContentAccess)", async () => {
      const f = await loadFixture(channelsFixture);
      const unknown = keccak256(toHex("never registered"));
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { contentId: unknown, offer: false }),
        f.contentAccess,
        "UnknownContent",
        [unknown],
      );
      expect(await f.channels.read.channelCount()).to.equal(0n);
    });

    it("reverts WrongPayment when msg.value differs from a native deposit", async () => {
      const f = await loadFixture(channelsFixture);
      const params = {
        contentId: f.contentId,
        token: NATIVE,
        deposit: DEPOSIT,
        ratePerMinute: RATE,
        expiresAt: (await now()) + 7n * DAY,
        sessionKey: noSessionKey,
      };
      for (const value of [0n, DEPOSIT - 1n, DEPOSIT + 1n]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.openChannel([params], { account: f.fan.account, value }),
          f.channels,
          "WrongPayment",
          [DEPOSIT, value],
        );
      }
    });

    it("reverts WrongPayment when native value is sent with an ERC-20 deposit", async () => {
      const f = await loadFixture(channelsFixture);
      await offer(f, f.contentId, f.stable.address);
      const params = {
        contentId: f.contentId,
        token: f.stable.address,
        deposit: STABLE_DEPOSIT,
        ratePerMinute: STABLE_RATE,
        expiresAt: (await now()) + 7n * DAY,
        sessionKey: noSessionKey,
      };
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.openChannel([params], { account: f.fan.account, value: 1n }),
        f.channels,
        "WrongPayment",
        [0n, 1n],
      );
    });

    it("reverts when the ERC-20 allowance is missing", async () => {
      const f = await loadFixture(channelsFixture);
      await f.stable.write.mint([addr(f.stranger), STABLE_DEPOSIT]);
      await viem.assertions.revertWithCustomError(
        open(f, { viewer: f.stranger, token: f.stable.address }),
        f.stable,
        "ERC20InsufficientAllowance",
      );
    });

    it("reverts EnforcedPause while paused", async () => {
      const f = await loadFixture(channelsFixture);
      await offer(f, f.soloContentId, f.stable.address);
      await f.channels.write.pause();
      await viem.assertions.revertWithCustomError(open(f, { offer: false }), f.channels, "EnforcedPause");
      await viem.assertions.revertWithCustomError(
        open(f, { contentId: f.soloContentId, token: f.stable.address, offer: false }),
        f.channels,
        "EnforcedPause",
      );
    });

    it("reverts NotStreamable when the creator never priced the item per minute, or stopped (rate 0)", async () => {
      const f = await loadFixture(channelsFixture);
      const unpriced = await register(f, "not per minute");
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { contentId: unpriced, offer: false }),
        f.channels,
        "NotStreamable",
        [unpriced],
      );
      const { id } = await open(f);
      await offer(f, f.contentId, NATIVE, 0n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { offer: false }),
        f.channels,
        "NotStreamable",
        [f.contentId],
      );
      // A channel opened before keeps working.
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, f.fan, id, RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(RATE);
    });

    it("reverts WrongStreamToken when the channel's token is not the price's", async () => {
      const f = await loadFixture(channelsFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { token: f.stable.address, offer: false }),
        f.channels,
        "WrongStreamToken",
        [f.contentId, NATIVE, f.stable.address],
      );
      await offer(f, f.contentId, f.stable.address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { offer: false }),
        f.channels,
        "WrongStreamToken",
        [f.contentId, f.stable.address, NATIVE],
      );
    });

    it("reverts RateBelowPrice below the creator's rate; accepts the rate and above", async () => {
      const f = await loadFixture(channelsFixture);
      for (const rate of [0n, 1n, RATE - 1n]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          open(f, { rate, offer: false }),
          f.channels,
          "RateBelowPrice",
          [f.contentId, RATE, rate],
        );
      }
      expect(await f.channels.read.channelCount()).to.equal(0n);
      for (const rate of [RATE, RATE + 1n, 2n * RATE]) {
        const { id, hash, expiresAt } = await open(f, { rate, offer: false });
        await viem.assertions.emitWithArgs(hash, f.channels, "ChannelOpened", [
          id,
          addr(f.fan),
          addr(f.creator),
          f.contentId,
          NATIVE,
          DEPOSIT,
          rate,
          expiresAt,
        ]);
      }
      // A creator raising the price changes later channels only.
      await offer(f, f.contentId, NATIVE, 3n * RATE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { rate: 2n * RATE, offer: false }),
        f.channels,
        "RateBelowPrice",
        [f.contentId, 3n * RATE, 2n * RATE],
      );
      await f.channels.write.redeemVoucher([1n, RATE, await sign(f, f.fan, 1n, RATE)]);
      expect((await f.channels.read.getChannel([1n])).redeemed).to.equal(RATE);
    });
  });

});

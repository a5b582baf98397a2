/**
 * PaymentChannels, authorizeSessionKey: adding a key after opening, replacing only a dead one.
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { DAY, addr, viem } from "../fixture.ts";
import { time, loadFixture, RATE, DEPOSIT, sessionKey, sessionKey2, channelsFixture, noSessionKey, now, open, sign } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("authorizeSessionKey", () => {
    it("authorises a key after opening; the key can then sign vouchers", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sk = { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY };
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey, id, RATE)]),
        f.channels,
        "InvalidSigner",
        [sessionKey.address],
      );
      await viem.assertions.emitWithArgs(
        f.channels.write.authorizeSessionKey([id, sk], { account: f.fan.account }),
        f.channels,
        "SessionKeyAuthorized",
        [id, sk.key, sk.spendingCap, sk.expiresAt],
      );
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(sk);
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey, id, RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(RATE);
    });

    it("refuses to replace or revoke a live key, so signed vouchers stay redeemable", async () => {
      // Otherwise a viewer could void the vouchers their key signed for minutes already watched.
      const f = await loadFixture(channelsFixture);
      const expiresAt = (await now()) + DAY;
      const { id } = await open(f, { sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt } });
      const signed = await sign(f, sessionKey, id, 2n * RATE);
      for (const replacement of [
        { key: sessionKey2.address, spendingCap: DEPOSIT / 2n, expiresAt: expiresAt + DAY },
        noSessionKey,
        { key: sessionKey.address, spendingCap: 1n, expiresAt },
      ]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.authorizeSessionKey([id, replacement], { account: f.fan.account }),
          f.channels,
          "SessionKeyActive",
          [sessionKey.address, expiresAt],
        );
      }
      // Still live one challenge period after its expiry: the creator's grace to redeem.
      await time.setNextBlockTimestamp(expiresAt + DAY);
      await viem.assertions.revertWithCustomError(
        f.channels.write.authorizeSessionKey([id, noSessionKey], { account: f.fan.account }),
        f.channels,
        "SessionKeyActive",
      );
      await f.channels.write.redeemVoucher([id, 2n * RATE, signed]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(2n * RATE);
    });

    it("replaces a dead key (past expiry + challenge period): the old key stops, the new one works", async () => {
      const f = await loadFixture(channelsFixture);
      const expiresAt = (await now()) + 3_600n;
      const { id } = await open(f, {
        expiresAt: (await now()) + 10n * DAY,
        sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt },
      });
      await time.setNextBlockTimestamp(expiresAt + DAY + 1n);
      const replacement = { key: sessionKey2.address, spendingCap: DEPOSIT / 2n, expiresAt: expiresAt + 3n * DAY };
      await viem.assertions.emitWithArgs(
        f.channels.write.authorizeSessionKey([id, replacement], { account: f.fan.account }),
        f.channels,
        "SessionKeyAuthorized",
        [id, sessionKey2.address, DEPOSIT / 2n, expiresAt + 3n * DAY],
      );
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(replacement);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey, id, RATE)]),
        f.channels,
        "InvalidSigner",
        [sessionKey.address],
      );
      await f.channels.write.redeemVoucher([id, 2n * RATE, await sign(f, sessionKey2, id, 2n * RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(2n * RATE);
    });

    it("reverts NotViewer for anyone but the viewer (creator included)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sk = { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY };
      for (const w of [f.stranger, f.creator]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.authorizeSessionKey([id, sk], { account: w.account }),
          f.channels,
          "NotViewer",
          [id, addr(w)],
        );
      }
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(noSessionKey);
    });

    it("works while a close is pending, reverts ChannelNotOpen once closed and UnknownChannel for no channel", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sk = { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY };
      await f.channels.write.requestClose([id], { account: f.fan.account });
      await f.channels.write.authorizeSessionKey([id, sk], { account: f.fan.account });
      expect((await f.channels.read.sessionKeyOf([id])).key).to.equal(sessionKey.address);
      await f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.authorizeSessionKey([id, sk], { account: f.fan.account }),
        f.channels,
        "ChannelNotOpen",
        [id],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.authorizeSessionKey([99n, sk], { account: f.fan.account }),
        f.channels,
        "UnknownChannel",
        [99n],
      );
    });
  });

});

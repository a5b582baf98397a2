/**
 * PaymentChannels, topUp: more deposit and a later expiry for an open channel.
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { parseEther } from "viem";
import { DAY, addr, viem } from "../fixture.ts";
import { loadFixture, RATE, DEPOSIT, STABLE_DEPOSIT, MAX_UINT96, channelsFixture, open, sign } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("topUp", () => {
    it("adds a native deposit, keeps the expiry with 0", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      const add = parseEther("0.5");
      const tx = f.channels.write.topUp([id, add, 0n], { account: f.fan.account, value: add });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.fan), amount: -add },
        { address: f.channels.address, amount: add },
      ]);
      await viem.assertions.emitWithArgs(tx, f.channels, "ChannelToppedUp", [id, add, DEPOSIT + add, expiresAt]);
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.deposit).to.equal(DEPOSIT + add);
      expect(ch.closesAt).to.equal(expiresAt);
    });

    it("adds an ERC-20 deposit by transferFrom", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f, { token: f.stable.address });
      const before = await f.stable.read.balanceOf([addr(f.fan)]);
      await viem.assertions.emitWithArgs(
        f.channels.write.topUp([id, 1_000_000n, 0n], { account: f.fan.account }),
        f.channels,
        "ChannelToppedUp",
        [id, 1_000_000n, STABLE_DEPOSIT + 1_000_000n, expiresAt],
      );
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(before - 1_000_000n);
      expect(await f.stable.read.balanceOf([f.channels.address])).to.equal(STABLE_DEPOSIT + 1_000_000n);
      expect((await f.channels.read.getChannel([id])).deposit).to.equal(STABLE_DEPOSIT + 1_000_000n);
    });

    it("extends the expiry (same value allowed), with or without new deposit", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      const later = expiresAt + 3n * DAY;
      await viem.assertions.emitWithArgs(
        f.channels.write.topUp([id, 0n, later], { account: f.fan.account }),
        f.channels,
        "ChannelToppedUp",
        [id, 0n, DEPOSIT, later],
      );
      expect((await f.channels.read.getChannel([id])).closesAt).to.equal(later);
      await f.channels.write.topUp([id, 1n, later], { account: f.fan.account, value: 1n });
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.closesAt).to.equal(later);
      expect(ch.deposit).to.equal(DEPOSIT + 1n);
    });

    it("reverts ExpiryTooSoon for an earlier expiry", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 1n, expiresAt - 1n], { account: f.fan.account, value: 1n }),
        f.channels,
        "ExpiryTooSoon",
        [expiresAt - 1n, expiresAt],
      );
    });

    it("reverts ChannelClosing after requestClose", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.requestClose([id], { account: f.fan.account });
      const closesAt = (await f.channels.read.getChannel([id])).closesAt;
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "ChannelClosing",
        [id, closesAt],
      );
    });

    it("reverts NotViewer for others", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      for (const w of [f.stranger, f.creator]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.topUp([id, 1n, 0n], { account: w.account, value: 1n }),
          f.channels,
          "NotViewer",
          [id, addr(w)],
        );
      }
    });

    it("reverts DepositTooLarge past uint96", async () => {
      const f = await loadFixture(channelsFixture);
      await f.stable.write.mint([addr(f.fan), MAX_UINT96]);
      const { id } = await open(f, { token: f.stable.address, deposit: MAX_UINT96 - 10n });
      await viem.assertions.revertWithCustomError(
        f.channels.write.topUp([id, 11n, 0n], { account: f.fan.account }),
        f.channels,
        "DepositTooLarge",
      );
      // Exactly up to the maximum is fine.
      await f.channels.write.topUp([id, 10n, 0n], { account: f.fan.account });
      expect((await f.channels.read.getChannel([id])).deposit).to.equal(MAX_UINT96);
      await viem.assertions.revertWithCustomError(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account }),
        f.channels,
        "DepositTooLarge",
      );
    });

    it("reverts WrongPayment for a mismatched msg.value", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 10n, 0n], { account: f.fan.account, value: 9n }),
        f.channels,
        "WrongPayment",
        [10n, 9n],
      );
      const erc = await open(f, { token: f.stable.address });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([erc.id, 10n, 0n], { account: f.fan.account, value: 10n }),
        f.channels,
        "WrongPayment",
        [0n, 10n],
      );
    });

    it("reverts EnforcedPause, ChannelNotOpen and UnknownChannel", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.pause();
      await viem.assertions.revertWithCustomError(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "EnforcedPause",
      );
      await f.channels.write.unpause();
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([7n, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "UnknownChannel",
        [7n],
      );
      await f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "ChannelNotOpen",
        [id],
      );
    });

    it("lets a voucher that was capped at the deposit redeem the rest after a top-up", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { deposit: 10n * RATE });
      const sig = await sign(f, f.fan, id, 15n * RATE);
      await f.channels.write.redeemVoucher([id, 15n * RATE, sig]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(10n * RATE);
      await f.channels.write.topUp([id, 10n * RATE, 0n], { account: f.fan.account, value: 10n * RATE });
      await viem.assertions.emitWithArgs(
        f.channels.write.redeemVoucher([id, 15n * RATE, sig]),
        f.channels,
        "VoucherRedeemed",
        [id, addr(f.fan), 15n * RATE, 5n * RATE, 15n * RATE],
      );
    });
  });

});

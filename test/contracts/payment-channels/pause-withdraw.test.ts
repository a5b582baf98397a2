/**
 * PaymentChannels, pause / unpause (only opening and top-ups stop) and withdraw (pull payments).
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { DAY, NATIVE, addr, viem } from "../fixture.ts";
import { time, loadFixture, RATE, DEPOSIT, STABLE_RATE, STABLE_DEPOSIT, Status, channelsFixture, type Wallet, open, sign, split } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("pause / unpause", () => {
    it("are owner-only (OwnableUnauthorizedAccount)", async () => {
      const f = await loadFixture(channelsFixture);
      for (const w of [f.stranger, f.creator, f.treasury]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.pause({ account: w.account }),
          f.channels,
          "OwnableUnauthorizedAccount",
          [addr(w)],
        );
      }
      await f.channels.write.pause();
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.unpause({ account: f.stranger.account }),
        f.channels,
        "OwnableUnauthorizedAccount",
        [addr(f.stranger)],
      );
      expect(await f.channels.read.paused()).to.equal(true);
    });

    it("toggle paused with events; double pause/unpause revert", async () => {
      const f = await loadFixture(channelsFixture);
      await viem.assertions.revertWithCustomError(f.channels.write.unpause(), f.channels, "ExpectedPause");
      await viem.assertions.emitWithArgs(f.channels.write.pause(), f.channels, "Paused", [addr(f.deployer)]);
      expect(await f.channels.read.paused()).to.equal(true);
      await viem.assertions.revertWithCustomError(f.channels.write.pause(), f.channels, "EnforcedPause");
      await viem.assertions.emitWithArgs(f.channels.write.unpause(), f.channels, "Unpaused", [addr(f.deployer)]);
      expect(await f.channels.read.paused()).to.equal(false);
      const { id } = await open(f);
      expect((await f.channels.read.getChannel([id])).status).to.equal(Status.Open);
    });

    it("block only opening and top-ups: redeem, close, requestClose, reclaim and withdraw keep working", async () => {
      const f = await loadFixture(channelsFixture);
      const a = await open(f);
      const b = await open(f);
      await f.channels.write.pause();
      await f.channels.write.redeemVoucher([a.id, RATE, await sign(f, f.fan, a.id, RATE)]);
      await f.channels.write.closeChannel([a.id, RATE, "0x"], { account: f.creator.account });
      await f.channels.write.requestClose([b.id], { account: f.fan.account });
      await time.increase(DAY);
      await f.channels.write.reclaim([b.id], { account: f.fan.account });
      await f.channels.write.withdraw([NATIVE], { account: f.creator.account });
      await f.channels.write.withdraw([NATIVE], { account: f.fan.account });
      expect((await f.channels.read.getChannel([a.id])).status).to.equal(Status.Closed);
      expect((await f.channels.read.getChannel([b.id])).status).to.equal(Status.Closed);
      expect(await f.channels.read.balanceOf([addr(f.creator), NATIVE])).to.equal(0n);
      expect(await f.channels.read.balanceOf([addr(f.fan), NATIVE])).to.equal(0n);
    });
  });

  describe("withdraw", () => {
    it("pays out native balances exactly and zeroes them", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const amount = 20n * RATE + 7n;
      await f.channels.write.redeemVoucher([id, amount, await sign(f, f.fan, id, amount)]);
      await f.channels.write.closeChannel([id, amount, "0x"], { account: f.creator.account });
      const s = split(amount);
      const payouts: [Wallet, bigint][] = [
        [f.creator, s.creator],
        [f.treasury, s.fee],
        [f.collab1, s.shares[0]],
        [f.collab2, s.shares[1]],
        [f.fan, DEPOSIT - amount],
      ];
      for (const [w, expected] of payouts) {
        const tx = f.channels.write.withdraw([NATIVE], { account: w.account });
        await viem.assertions.balancesHaveChanged(tx, [
          { address: addr(w), amount: expected },
          { address: f.channels.address, amount: -expected },
        ]);
        await viem.assertions.emitWithArgs(tx, f.channels, "Withdrawn", [addr(w), NATIVE, expected]);
        expect(await f.channels.read.balanceOf([addr(w), NATIVE])).to.equal(0n);
      }
      expect(await f.publicClient.getBalance({ address: f.channels.address })).to.equal(0n);
    });

    it("pays out ERC-20 balances exactly", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { token: f.stable.address });
      const amount = 100n * STABLE_RATE + 9n;
      await f.channels.write.redeemVoucher([id, amount, await sign(f, f.fan, id, amount)]);
      const s = split(amount);
      const before = await f.stable.read.balanceOf([addr(f.creator)]);
      await viem.assertions.emitWithArgs(
        f.channels.write.withdraw([f.stable.address], { account: f.creator.account }),
        f.channels,
        "Withdrawn",
        [addr(f.creator), f.stable.address, s.creator],
      );
      expect(await f.stable.read.balanceOf([addr(f.creator)])).to.equal(before + s.creator);
      expect(await f.stable.read.balanceOf([f.channels.address])).to.equal(STABLE_DEPOSIT - s.creator);
      expect(await f.channels.read.balanceOf([addr(f.creator), f.stable.address])).to.equal(0n);
      // The treasury's ERC-20 balance is untouched by the creator's withdrawal.
      expect(await f.channels.read.balanceOf([addr(f.treasury), f.stable.address])).to.equal(s.fee);
    });

    it("reverts NothingToWithdraw for an empty balance and after withdrawing", async () => {
      const f = await loadFixture(channelsFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.withdraw([NATIVE], { account: f.stranger.account }),
        f.channels,
        "NothingToWithdraw",
        [addr(f.stranger), NATIVE],
      );
      const { id } = await open(f);
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, f.fan, id, RATE)]);
      await f.channels.write.withdraw([NATIVE], { account: f.creator.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.withdraw([NATIVE], { account: f.creator.account }),
        f.channels,
        "NothingToWithdraw",
        [addr(f.creator), NATIVE],
      );
      // A native balance does not make an ERC-20 balance.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.withdraw([f.stable.address], { account: f.treasury.account }),
        f.channels,
        "NothingToWithdraw",
        [addr(f.treasury), f.stable.address],
      );
    });
  });

});

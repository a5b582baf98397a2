/**
 * PaymentChannels, closeChannel, requestClose and reclaim: ending a channel from either side.
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { parseEther, parseEventLogs, type Address, type Hex } from "viem";
import { DAY, NATIVE, addr, networkHelpers, viem } from "../fixture.ts";
import { time, loadFixture, RATE, DEPOSIT, STABLE_RATE, STABLE_DEPOSIT, Status, Role, sessionKey, channelsFixture, noSessionKey, now, open, sign, split, credited, expectedCredits, ledger } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("closeChannel", () => {
    it("redeems the final voucher and credits the rest to the viewer with role 3 (refund)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.redeemVoucher([id, 10n * RATE, await sign(f, f.fan, id, 10n * RATE)]);
      const final = 25n * RATE;
      const hash = await f.channels.write.closeChannel([id, final, await sign(f, f.fan, id, final)], {
        account: f.creator.account,
      });
      const refund = DEPOSIT - final;
      await viem.assertions.emitWithArgs(hash, f.channels, "VoucherRedeemed", [
        id,
        addr(f.fan),
        final,
        15n * RATE,
        final,
      ]);
      await viem.assertions.emitWithArgs(hash, f.channels, "ChannelClosed", [id, final, refund]);
      expect(await credited(f, hash)).to.deep.equal([
        ...expectedCredits(f, 15n * RATE, NATIVE),
        { payee: addr(f.fan), token: NATIVE, contentId: f.contentId, role: Role.Refund, amount: refund },
      ]);
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.status).to.equal(Status.Closed);
      expect(ch.redeemed).to.equal(final);
      expect(await f.channels.read.balanceOf([addr(f.fan), NATIVE])).to.equal(refund);
      // The escrow is exactly what is owed out of the ledger.
      const l = await ledger(f);
      const owed = l.treasury + l.creator + l.collab1 + l.collab2 + l.fan;
      expect(owed).to.equal(DEPOSIT);
      expect(await f.publicClient.getBalance({ address: f.channels.address })).to.equal(DEPOSIT);
    });

    it("accepts an empty signature when the amount is already redeemed", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.redeemVoucher([id, 4n * RATE, await sign(f, f.fan, id, 4n * RATE)]);
      const hash = await f.channels.write.closeChannel([id, 4n * RATE, "0x"], { account: f.creator.account });
      await viem.assertions.emitWithArgs(hash, f.channels, "ChannelClosed", [id, 4n * RATE, DEPOSIT - 4n * RATE]);
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
      expect(parseEventLogs({ abi: f.channels.abi, eventName: "VoucherRedeemed", logs: receipt.logs })).to.have.length(
        0,
      );
      expect(await credited(f, hash)).to.deep.equal([
        { payee: addr(f.fan), token: NATIVE, contentId: f.contentId, role: Role.Refund, amount: DEPOSIT - 4n * RATE },
      ]);
    });

    it("with nothing redeemed and amount 0 refunds the whole deposit", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { token: f.stable.address });
      const hash = await f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account });
      await viem.assertions.emitWithArgs(hash, f.channels, "ChannelClosed", [id, 0n, STABLE_DEPOSIT]);
      expect(await credited(f, hash)).to.deep.equal([
        {
          payee: addr(f.fan),
          token: f.stable.address,
          contentId: f.contentId,
          role: Role.Refund,
          amount: STABLE_DEPOSIT,
        },
      ]);
      expect(await f.channels.read.balanceOf([addr(f.fan), f.stable.address])).to.equal(STABLE_DEPOSIT);
    });

    it("credits no refund when the whole deposit was redeemed", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { deposit: 5n * RATE });
      const hash = await f.channels.write.closeChannel([id, 8n * RATE, await sign(f, f.fan, id, 8n * RATE)], {
        account: f.creator.account,
      });
      await viem.assertions.emitWithArgs(hash, f.channels, "ChannelClosed", [id, 5n * RATE, 0n]);
      expect(await credited(f, hash)).to.deep.equal(expectedCredits(f, 5n * RATE, NATIVE));
      expect(await f.channels.read.balanceOf([addr(f.fan), NATIVE])).to.equal(0n);
    });

    it("closes with a final voucher above the deposit when the deposit is already fully redeemed", async () => {
      // The viewer kept watching past the deposit; the creator (or anyone) already redeemed the
      // deposit; the creator then closes with the latest voucher, as the NatSpec describes.
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { deposit: 5n * RATE });
      await f.channels.write.redeemVoucher([id, 5n * RATE, await sign(f, f.fan, id, 5n * RATE)], {
        account: f.stranger.account,
      });
      const latest = 8n * RATE;
      const hash = await f.channels.write.closeChannel([id, latest, await sign(f, f.fan, id, latest)], {
        account: f.creator.account,
      });
      await viem.assertions.emitWithArgs(hash, f.channels, "ChannelClosed", [id, 5n * RATE, 0n]);
      expect((await f.channels.read.getChannel([id])).status).to.equal(Status.Closed);
    });

    it("reverts ECDSAInvalidSignatureLength with an empty signature for an unredeemed amount", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.closeChannel([id, RATE, "0x"], { account: f.creator.account }),
        f.channels,
        "ECDSAInvalidSignatureLength",
        [0n],
      );
    });

    it("reverts NotCreator for the viewer, collaborators and strangers", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      for (const w of [f.fan, f.collab1, f.stranger, f.deployer]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.closeChannel([id, 0n, "0x"], { account: w.account }),
          f.channels,
          "NotCreator",
          [id, addr(w)],
        );
      }
      expect((await f.channels.read.getChannel([id])).status).to.equal(Status.Open);
    });

    it("after closesAt: closes with an already-redeemed amount, refuses a new voucher (ChannelExpired)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, f.fan, id, RATE)]);
      await time.increaseTo(expiresAt);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.closeChannel([id, 2n * RATE, await sign(f, f.fan, id, 2n * RATE)], {
          account: f.creator.account,
        }),
        f.channels,
        "ChannelExpired",
        [id, expiresAt],
      );
      await f.channels.write.closeChannel([id, RATE, "0x"], { account: f.creator.account });
      expect(await f.channels.read.balanceOf([addr(f.fan), NATIVE])).to.equal(DEPOSIT - RATE);
    });

    it("leaves the channel Closed: every channel function reverts ChannelNotOpen afterwards", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account });
      const sig = await sign(f, f.fan, id, RATE);
      const calls = [
        () => f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account }),
        () => f.channels.write.redeemVoucher([id, RATE, sig]),
        () => f.channels.write.requestClose([id], { account: f.fan.account }),
        () => f.channels.write.reclaim([id], { account: f.fan.account }),
        () => f.channels.write.topUp([id, 0n, 0n], { account: f.fan.account }),
        () => f.channels.write.authorizeSessionKey([id, noSessionKey], { account: f.fan.account }),
      ];
      for (const call of calls) {
        await viem.assertions.revertWithCustomErrorWithArgs(call(), f.channels, "ChannelNotOpen", [id]);
      }
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.closeChannel([id + 1n, 0n, "0x"], { account: f.creator.account }),
        f.channels,
        "UnknownChannel",
        [id + 1n],
      );
    });
  });

  describe("requestClose", () => {
    it("brings closesAt forward to now + 1 day and marks the channel Closing", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const t = (await now()) + 1_000n;
      await time.setNextBlockTimestamp(t);
      await viem.assertions.emitWithArgs(
        f.channels.write.requestClose([id], { account: f.fan.account }),
        f.channels,
        "CloseRequested",
        [id, t + DAY],
      );
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.closesAt).to.equal(t + DAY);
      expect(ch.status).to.equal(Status.Closing);
    });

    it("never pushes closesAt later (also when requested again)", async () => {
      const f = await loadFixture(channelsFixture);
      const base = (await now()) + 10n;
      await time.setNextBlockTimestamp(base);
      const expiresAt = base + DAY + 100n;
      const { id } = await open(f, { expiresAt });
      await time.setNextBlockTimestamp(base + 500n);
      await viem.assertions.emitWithArgs(
        f.channels.write.requestClose([id], { account: f.fan.account }),
        f.channels,
        "CloseRequested",
        [id, expiresAt],
      );
      expect((await f.channels.read.getChannel([id])).closesAt).to.equal(expiresAt);

      const other = await open(f);
      const t1 = (await now()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await f.channels.write.requestClose([other.id], { account: f.fan.account });
      await time.setNextBlockTimestamp(t1 + 3_600n);
      await viem.assertions.emitWithArgs(
        f.channels.write.requestClose([other.id], { account: f.fan.account }),
        f.channels,
        "CloseRequested",
        [other.id, t1 + DAY],
      );
      expect((await f.channels.read.getChannel([other.id])).closesAt).to.equal(t1 + DAY);
    });

    it("leaves the creator the full challenge period to redeem", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sig = await sign(f, f.fan, id, 30n * RATE);
      await f.channels.write.requestClose([id], { account: f.fan.account });
      const { closesAt } = await f.channels.read.getChannel([id]);
      await time.setNextBlockTimestamp(closesAt - 1n);
      await f.channels.write.redeemVoucher([id, 30n * RATE, sig], { account: f.creator.account });
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(30n * RATE);
    });

    it("reverts NotViewer and UnknownChannel", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      for (const w of [f.creator, f.stranger]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.requestClose([id], { account: w.account }),
          f.channels,
          "NotViewer",
          [id, addr(w)],
        );
      }
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.requestClose([3n], { account: f.fan.account }),
        f.channels,
        "UnknownChannel",
        [3n],
      );
      expect((await f.channels.read.getChannel([id])).status).to.equal(Status.Open);
    });
  });

  describe("reclaim", () => {
    it("reverts ChannelStillOpen before closesAt (closesAt - 1 included)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.reclaim([id], { account: f.fan.account }),
        f.channels,
        "ChannelStillOpen",
        [id, expiresAt],
      );
      await time.setNextBlockTimestamp(expiresAt - 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.reclaim([id], { account: f.fan.account }),
        f.channels,
        "ChannelStillOpen",
        [id, expiresAt],
      );
    });

    it("pushes the native refund to the viewer at closesAt and closes the channel", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      await f.channels.write.redeemVoucher([id, 12n * RATE, await sign(f, f.fan, id, 12n * RATE)]);
      await time.setNextBlockTimestamp(expiresAt);
      const refund = DEPOSIT - 12n * RATE;
      const tx = f.channels.write.reclaim([id], { account: f.fan.account });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.fan), amount: refund },
        { address: f.channels.address, amount: -refund },
      ]);
      await viem.assertions.emitWithArgs(tx, f.channels, "ChannelClosed", [id, 12n * RATE, refund]);
      expect(await credited(f, await tx)).to.deep.equal([]);
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.status).to.equal(Status.Closed);
      expect(await f.channels.read.balanceOf([addr(f.fan), NATIVE])).to.equal(0n);
      // What is left in the contract is exactly the split of the redeemed part.
      expect(await f.publicClient.getBalance({ address: f.channels.address })).to.equal(12n * RATE);
    });

    it("pushes an ERC-20 refund after requestClose's challenge period", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { token: f.stable.address });
      await f.channels.write.redeemVoucher([id, STABLE_RATE, await sign(f, f.fan, id, STABLE_RATE)]);
      await f.channels.write.requestClose([id], { account: f.fan.account });
      const { closesAt } = await f.channels.read.getChannel([id]);
      await time.increaseTo(closesAt);
      const before = await f.stable.read.balanceOf([addr(f.fan)]);
      await viem.assertions.emitWithArgs(
        f.channels.write.reclaim([id], { account: f.fan.account }),
        f.channels,
        "ChannelClosed",
        [id, STABLE_RATE, STABLE_DEPOSIT - STABLE_RATE],
      );
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(before + STABLE_DEPOSIT - STABLE_RATE);
      expect(await f.stable.read.balanceOf([f.channels.address])).to.equal(STABLE_RATE);
      expect((await f.channels.read.getChannel([id])).status).to.equal(Status.Closed);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.reclaim([id], { account: f.fan.account }),
        f.channels,
        "ChannelNotOpen",
        [id],
      );
    });

    it("closes without a transfer when the deposit was fully redeemed", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f, { deposit: 3n * RATE });
      await f.channels.write.redeemVoucher([id, 3n * RATE, await sign(f, f.fan, id, 3n * RATE)]);
      await time.increaseTo(expiresAt);
      const tx = f.channels.write.reclaim([id], { account: f.fan.account });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.fan), amount: 0n },
        { address: f.channels.address, amount: 0n },
      ]);
      await viem.assertions.emitWithArgs(tx, f.channels, "ChannelClosed", [id, 3n * RATE, 0n]);
      expect((await f.channels.read.getChannel([id])).status).to.equal(Status.Closed);
    });

    it("reverts NotViewer for others (also after closesAt) and UnknownChannel", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      await time.increaseTo(expiresAt);
      for (const w of [f.creator, f.stranger]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.reclaim([id], { account: w.account }),
          f.channels,
          "NotViewer",
          [id, addr(w)],
        );
      }
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.reclaim([id + 1n], { account: f.fan.account }),
        f.channels,
        "UnknownChannel",
        [id + 1n],
      );
    });

    it("reverts NativeTransferFailed when the viewer rejects native currency", async () => {
      const f = await loadFixture(channelsFixture);
      // A viewer account whose code reverts on any call (PUSH1 0 PUSH1 0 REVERT).
      const rejecter: Address = "0x000000000000000000000000000000000000dEaD";
      await networkHelpers.setCode(rejecter, "0x60006000fd");
      await networkHelpers.impersonateAccount(rejecter);
      await networkHelpers.setBalance(rejecter, parseEther("10"));
      const expiresAt = (await now()) + 2n * DAY;
      await f.channels.write.openChannel(
        [
          {
            contentId: f.contentId,
            token: NATIVE,
            deposit: DEPOSIT,
            ratePerMinute: RATE,
            expiresAt,
            sessionKey: noSessionKey,
          },
        ],
        { account: rejecter, value: DEPOSIT },
      );
      const id = await f.channels.read.channelCount();
      await time.increaseTo(expiresAt);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.reclaim([id], { account: rejecter }),
        f.channels,
        "NativeTransferFailed",
        [rejecter, DEPOSIT],
      );
      // The pull path still works: the creator closes, the refund sits in the ledger.
      await f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account });
      expect(await f.channels.read.balanceOf([rejecter, NATIVE])).to.equal(DEPOSIT);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.withdraw([NATIVE], { account: rejecter }),
        f.channels,
        "NativeTransferFailed",
        [rejecter, DEPOSIT],
      );
      await networkHelpers.stopImpersonatingAccount(rejecter);
    });

    it("blocks a viewer that re-enters withdraw from the refund push (nonReentrant)", async () => {
      const f = await loadFixture(channelsFixture);
      // Viewer code, run on every call it receives: call channels.withdraw(address(0)); if that
      // succeeds, revert (so the outer push fails); if it fails, accept the payment.
      const viewer: Address = "0x000000000000000000000000000000000000bEEF";
      const code: Hex = `0x6351cff8d960e01b6000526000600060246000600073${f.channels.address.slice(2)}5af1603057005b60006000fd`;
      await networkHelpers.setCode(viewer, code);
      await networkHelpers.impersonateAccount(viewer);
      await networkHelpers.setBalance(viewer, parseEther("10"));
      const expiresAt = (await now()) + 2n * DAY;
      const params = {
        contentId: f.contentId,
        token: NATIVE,
        deposit: DEPOSIT,
        ratePerMinute: RATE,
        expiresAt,
        sessionKey: noSessionKey,
      };
      await f.channels.write.openChannel([params], { account: viewer, value: DEPOSIT });
      const a = await f.channels.read.channelCount();
      await f.channels.write.openChannel([params], { account: viewer, value: DEPOSIT });
      const b = await f.channels.read.channelCount();
      // Channel a's refund sits in the ledger, so an unguarded re-entrant withdraw would pay out.
      await f.channels.write.closeChannel([a, 0n, "0x"], { account: f.creator.account });
      expect(await f.channels.read.balanceOf([viewer, NATIVE])).to.equal(DEPOSIT);
      await time.increaseTo(expiresAt);
      const tx = f.channels.write.reclaim([b], { account: viewer });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: viewer, amount: DEPOSIT },
        { address: f.channels.address, amount: -DEPOSIT },
      ]);
      expect(await f.channels.read.balanceOf([viewer, NATIVE])).to.equal(DEPOSIT);
      expect((await f.channels.read.getChannel([b])).status).to.equal(Status.Closed);
      // The direct withdrawal works once (its own nested re-entry is refused as well).
      await viem.assertions.balancesHaveChanged(f.channels.write.withdraw([NATIVE], { account: viewer }), [
        { address: viewer, amount: DEPOSIT },
      ]);
      expect(await f.channels.read.balanceOf([viewer, NATIVE])).to.equal(0n);
      await networkHelpers.stopImpersonatingAccount(viewer);
    });
  });

});

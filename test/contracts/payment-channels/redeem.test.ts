/**
 * PaymentChannels, redeemVoucher: splits, cumulative increments, the deposit cap, replay and malleability, session-key limits.
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { type Hex } from "viem";
import { type PrivateKeyAccount } from "viem/accounts";
import { DAY, NATIVE, addr, viem } from "../fixture.ts";
import { time, loadFixture, RATE, DEPOSIT, STABLE_RATE, STABLE_DEPOSIT, FEE_BPS, SECP256K1_N, Role, sessionKey, sessionKey2, channelsFixture, type Wallet, now, open, sign, split, credited, expectedCredits, ledger } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("redeemVoucher", () => {
    it("redeems a viewer-signed voucher and splits it: 3% platform, collaborators, creator remainder", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const amount = 7n * RATE + 3n; // odd amount so rounding matters
      const sig = await sign(f, f.fan, id, amount);
      const hash = await f.channels.write.redeemVoucher([id, amount, sig], { account: f.creator.account });
      await viem.assertions.emitWithArgs(hash, f.channels, "VoucherRedeemed", [
        id,
        addr(f.fan),
        amount,
        amount,
        amount,
      ]);
      await viem.assertions.emitWithArgs(hash, f.channels, "Credited", [
        addr(f.treasury),
        NATIVE,
        f.contentId,
        Role.Platform,
        (amount * FEE_BPS) / 10_000n,
      ]);
      const expected = expectedCredits(f, amount, NATIVE);
      expect(await credited(f, hash)).to.deep.equal(expected);
      expect(expected.reduce((a, c) => a + c.amount, 0n)).to.equal(amount);
      const s = split(amount);
      expect(await ledger(f)).to.deep.equal({
        treasury: s.fee,
        creator: s.creator,
        collab1: s.shares[0],
        collab2: s.shares[1],
        fan: 0n,
        stranger: 0n,
      });
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(amount);
    });

    it("splits content without collaborators between platform and creator only", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { contentId: f.soloContentId });
      const amount = 10n * RATE;
      const hash = await f.channels.write.redeemVoucher([id, amount, await sign(f, f.fan, id, amount)]);
      const fee = (amount * FEE_BPS) / 10_000n;
      expect(await credited(f, hash)).to.deep.equal([
        { payee: addr(f.treasury), token: NATIVE, contentId: f.soloContentId, role: Role.Platform, amount: fee },
        { payee: addr(f.creator), token: NATIVE, contentId: f.soloContentId, role: Role.Creator, amount: amount - fee },
      ]);
    });

    it("splits ERC-20 redemptions into ERC-20 ledger balances", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { token: f.stable.address });
      const amount = 37n * STABLE_RATE + 1n;
      const hash = await f.channels.write.redeemVoucher([id, amount, await sign(f, f.fan, id, amount)]);
      expect(await credited(f, hash)).to.deep.equal(expectedCredits(f, amount, f.stable.address));
      const s = split(amount);
      expect((await ledger(f, f.stable.address)).creator).to.equal(s.creator);
      expect((await ledger(f, NATIVE)).creator).to.equal(0n);
    });

    it("redeems a session-key-signed voucher (signer in the event is the key)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, {
        sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY },
      });
      const amount = 5n * RATE;
      const hash = await f.channels.write.redeemVoucher([id, amount, await sign(f, sessionKey, id, amount)]);
      await viem.assertions.emitWithArgs(hash, f.channels, "VoucherRedeemed", [
        id,
        sessionKey.address,
        amount,
        amount,
        amount,
      ]);
      expect(await credited(f, hash)).to.deep.equal(expectedCredits(f, amount, NATIVE));
    });

    it("pays only the increment on partial and repeated redemption (viewer and key vouchers mix)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, {
        sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY },
      });
      const steps: [Wallet | PrivateKeyAccount, bigint][] = [
        [f.fan, 3n * RATE],
        [sessionKey, 10n * RATE],
        [f.fan, 11n * RATE],
      ];
      let previous = 0n;
      let total = { treasury: 0n, creator: 0n, collab1: 0n, collab2: 0n };
      for (const [signer, cumulative] of steps) {
        const hash = await f.channels.write.redeemVoucher([id, cumulative, await sign(f, signer, id, cumulative)]);
        const increment = cumulative - previous;
        await viem.assertions.emitWithArgs(hash, f.channels, "VoucherRedeemed", [
          id,
          "account" in signer ? addr(signer) : signer.address,
          cumulative,
          increment,
          cumulative,
        ]);
        expect(await credited(f, hash)).to.deep.equal(expectedCredits(f, increment, NATIVE));
        const s = split(increment);
        total = {
          treasury: total.treasury + s.fee,
          creator: total.creator + s.creator,
          collab1: total.collab1 + s.shares[0],
          collab2: total.collab2 + s.shares[1],
        };
        previous = cumulative;
      }
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(11n * RATE);
      expect(await ledger(f)).to.deep.equal({ ...total, fan: 0n, stranger: 0n });
    });

    it("caps payment at the deposit", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { deposit: 10n * RATE });
      await f.channels.write.redeemVoucher([id, 4n * RATE, await sign(f, f.fan, id, 4n * RATE)]);
      const hash = await f.channels.write.redeemVoucher([id, 25n * RATE, await sign(f, f.fan, id, 25n * RATE)]);
      await viem.assertions.emitWithArgs(hash, f.channels, "VoucherRedeemed", [
        id,
        addr(f.fan),
        25n * RATE,
        6n * RATE,
        10n * RATE,
      ]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(10n * RATE);
      // Nothing left: a still larger voucher pays nothing.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, 30n * RATE, await sign(f, f.fan, id, 30n * RATE)]),
        f.channels,
        "NothingToRedeem",
        [30n * RATE, 10n * RATE],
      );
    });

    it("reverts NothingToRedeem on replay, on an older voucher and on a zero voucher", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sig = await sign(f, f.fan, id, 5n * RATE);
      await f.channels.write.redeemVoucher([id, 5n * RATE, sig]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, 5n * RATE, sig]),
        f.channels,
        "NothingToRedeem",
        [5n * RATE, 5n * RATE],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, 4n * RATE, await sign(f, f.fan, id, 4n * RATE)]),
        f.channels,
        "NothingToRedeem",
        [4n * RATE, 5n * RATE],
      );
      const fresh = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([fresh.id, 0n, await sign(f, f.fan, fresh.id, 0n)]),
        f.channels,
        "NothingToRedeem",
        [0n, 0n],
      );
    });

    it("reverts InvalidSigner for a stranger's or the creator's signature", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, {
        sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY },
      });
      for (const w of [f.stranger, f.creator, f.fan2]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.redeemVoucher([id, RATE, await sign(f, w, id, RATE)]),
          f.channels,
          "InvalidSigner",
          [addr(w)],
        );
      }
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey2, id, RATE)]),
        f.channels,
        "InvalidSigner",
        [sessionKey2.address],
      );
    });

    it("binds vouchers to channel, amount and contract (no cross-channel, cross-amount or cross-domain replay)", async () => {
      const f = await loadFixture(channelsFixture);
      const a = await open(f);
      const b = await open(f);
      const sigA = await sign(f, f.fan, a.id, RATE);
      const recoversSomeoneElse = (signer: unknown) =>
        typeof signer === "string" && signer.toLowerCase() !== addr(f.fan).toLowerCase();
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([b.id, RATE, sigA]),
        f.channels,
        "InvalidSigner",
        [recoversSomeoneElse],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([a.id, 2n * RATE, sigA]),
        f.channels,
        "InvalidSigner",
        [recoversSomeoneElse],
      );
      const otherContract = await sign(f, f.fan, a.id, RATE, f.contentAccess.address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([a.id, RATE, otherContract]),
        f.channels,
        "InvalidSigner",
        [recoversSomeoneElse],
      );
      await f.channels.write.redeemVoucher([a.id, RATE, sigA]);
      expect((await f.channels.read.getChannel([a.id])).redeemed).to.equal(RATE);
      expect((await f.channels.read.getChannel([b.id])).redeemed).to.equal(0n);
    });

    it("rejects malformed and malleable (high-s) signatures", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, "0x"]),
        f.channels,
        "ECDSAInvalidSignatureLength",
        [0n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, `0x${"11".repeat(64)}`]),
        f.channels,
        "ECDSAInvalidSignatureLength",
        [64n],
      );
      await viem.assertions.revertWithCustomError(
        f.channels.write.redeemVoucher([id, RATE, `0x${"00".repeat(65)}`]),
        f.channels,
        "ECDSAInvalidSignature",
      );
      const sig = await sign(f, f.fan, id, RATE);
      const r = sig.slice(2, 66);
      const s = BigInt(`0x${sig.slice(66, 130)}`);
      const v = Number.parseInt(sig.slice(130, 132), 16);
      const highS = (SECP256K1_N - s).toString(16).padStart(64, "0");
      const flippedV = (v === 27 ? 28 : 27).toString(16);
      const malleable: Hex = `0x${r}${highS}${flippedV}`;
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, malleable]),
        f.channels,
        "ECDSAInvalidSignatureS",
        [`0x${highS}`],
      );
      await f.channels.write.redeemVoucher([id, RATE, sig]);
    });

    it("reverts SessionKeyExpired one challenge period after the key's expiry (valid exactly then)", async () => {
      const f = await loadFixture(channelsFixture);
      const skExpiry = (await now()) + 3_600n;
      const { id } = await open(f, {
        expiresAt: (await now()) + 10n * DAY,
        sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: skExpiry },
      });
      await time.setNextBlockTimestamp(skExpiry + DAY);
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey, id, RATE)]);
      const sig = await sign(f, sessionKey, id, 2n * RATE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, 2n * RATE, sig]),
        f.channels,
        "SessionKeyExpired",
        [sessionKey.address, skExpiry],
      );
      // The viewer's own vouchers are not bound by the key's expiry.
      await f.channels.write.redeemVoucher([id, 2n * RATE, await sign(f, f.fan, id, 2n * RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(2n * RATE);
    });

    it("reverts SpendingCapExceeded above the key's cap (exactly the cap is fine)", async () => {
      const f = await loadFixture(channelsFixture);
      const cap = 10n * RATE;
      const { id } = await open(f, {
        sessionKey: { key: sessionKey.address, spendingCap: cap, expiresAt: (await now()) + DAY },
      });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, cap + 1n, await sign(f, sessionKey, id, cap + 1n)]),
        f.channels,
        "SpendingCapExceeded",
        [cap + 1n, cap],
      );
      await f.channels.write.redeemVoucher([id, cap, await sign(f, sessionKey, id, cap)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(cap);
      // The viewer may sign beyond the key's cap.
      await f.channels.write.redeemVoucher([id, 2n * cap, await sign(f, f.fan, id, 2n * cap)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(2n * cap);
    });

    it("reverts ChannelExpired from closesAt on (closesAt - 1 still works)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      await time.setNextBlockTimestamp(expiresAt - 1n);
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, f.fan, id, RATE)]);
      const sig = await sign(f, f.fan, id, 2n * RATE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, 2n * RATE, sig]),
        f.channels,
        "ChannelExpired",
        [id, expiresAt],
      );
      await time.increase(DAY);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, 2n * RATE, sig]),
        f.channels,
        "ChannelExpired",
        [id, expiresAt],
      );
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(RATE);
    });

    it("splits each increment by the split in force at redemption (collaborators and fee changes)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.redeemVoucher([id, 10n * RATE, await sign(f, f.fan, id, 10n * RATE)]);
      await f.contentAccess.write.updateCollaborators([f.contentId, [{ account: addr(f.collab2), shareBps: 5_000 }]], {
        account: f.creator.account,
      });
      await f.contentAccess.write.setPlatformFee([1_000]);
      const hash = await f.channels.write.redeemVoucher([id, 30n * RATE, await sign(f, f.fan, id, 30n * RATE)]);
      const increment = 20n * RATE;
      const fee = increment / 10n;
      const collab = (increment - fee) / 2n;
      expect(await credited(f, hash)).to.deep.equal([
        { payee: addr(f.treasury), token: NATIVE, contentId: f.contentId, role: Role.Platform, amount: fee },
        { payee: addr(f.collab2), token: NATIVE, contentId: f.contentId, role: Role.Collaborator, amount: collab },
        {
          payee: addr(f.creator),
          token: NATIVE,
          contentId: f.contentId,
          role: Role.Creator,
          amount: increment - fee - collab,
        },
      ]);
      expect(await f.channels.read.balanceOf([addr(f.collab1), NATIVE])).to.equal(split(10n * RATE).shares[0]);
    });

    it("keeps an ERC-20 channel redeemable and reclaimable after the token is disallowed", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f, { token: f.stable.address });
      await f.contentAccess.write.setPaymentToken([f.stable.address, false]);
      await f.channels.write.redeemVoucher([id, STABLE_RATE, await sign(f, f.fan, id, STABLE_RATE)]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { token: f.stable.address }),
        f.channels,
        "TokenNotAccepted",
        [f.stable.address],
      );
      await time.increaseTo(expiresAt);
      const before = await f.stable.read.balanceOf([addr(f.fan)]);
      await f.channels.write.reclaim([id], { account: f.fan.account });
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(before + STABLE_DEPOSIT - STABLE_RATE);
      await f.channels.write.withdraw([f.stable.address], { account: f.creator.account });
      expect(await f.channels.read.balanceOf([addr(f.creator), f.stable.address])).to.equal(0n);
    });

    it("may be submitted by anyone; the money still goes to the split", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const amount = 9n * RATE;
      const hash = await f.channels.write.redeemVoucher([id, amount, await sign(f, f.fan, id, amount)], {
        account: f.stranger.account,
      });
      expect(await credited(f, hash)).to.deep.equal(expectedCredits(f, amount, NATIVE));
      const l = await ledger(f);
      expect(l.stranger).to.equal(0n);
      expect(l.creator).to.equal(split(amount).creator);
    });

    it("keeps working while paused and while a close is pending; reverts UnknownChannel and ChannelNotOpen", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.pause();
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, f.fan, id, RATE)]);
      await f.channels.write.requestClose([id], { account: f.fan.account });
      await f.channels.write.redeemVoucher([id, 2n * RATE, await sign(f, f.fan, id, 2n * RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(2n * RATE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([5n, RATE, await sign(f, f.fan, 5n, RATE)]),
        f.channels,
        "UnknownChannel",
        [5n],
      );
      await f.channels.write.closeChannel([id, 2n * RATE, "0x"], { account: f.creator.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, 3n * RATE, await sign(f, f.fan, id, 3n * RATE)]),
        f.channels,
        "ChannelNotOpen",
        [id],
      );
    });
  });

});

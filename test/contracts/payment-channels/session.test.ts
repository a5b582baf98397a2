/**
 * PaymentChannels, a 60-minute session: 60 session-key vouchers, one redemption.
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { type Hex } from "viem";
import { NATIVE, addr, viem } from "../fixture.ts";
import { time, loadFixture, RATE, DEPOSIT, sessionKey, channelsFixture, now, open, sign, split, credited, expectedCredits } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("a 60-minute session", () => {
    it("60 session-key vouchers signed, one redemption pays 60 x rate", async () => {
      const f = await loadFixture(channelsFixture);
      const start = await now();
      const { id } = await open(f, {
        sessionKey: { key: sessionKey.address, spendingCap: 60n * RATE, expiresAt: start + 2n * 3_600n },
      });
      const vouchers: { amount: bigint; signature: Hex }[] = [];
      for (let minute = 1n; minute <= 60n; minute++) {
        const amount = minute * RATE;
        vouchers.push({ amount, signature: await sign(f, sessionKey, id, amount) });
      }
      expect(new Set(vouchers.map((v) => v.signature)).size).to.equal(60);
      await time.increase(3_600);
      const last = vouchers[59];
      const hash = await f.channels.write.redeemVoucher([id, last.amount, last.signature], {
        account: f.creator.account,
      });
      await viem.assertions.emitWithArgs(hash, f.channels, "VoucherRedeemed", [
        id,
        sessionKey.address,
        60n * RATE,
        60n * RATE,
        60n * RATE,
      ]);
      expect(await credited(f, hash)).to.deep.equal(expectedCredits(f, 60n * RATE, NATIVE));
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status).to.equal("success");
      // Any earlier voucher is now worthless.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, vouchers[29].amount, vouchers[29].signature]),
        f.channels,
        "NothingToRedeem",
        [30n * RATE, 60n * RATE],
      );
      await f.channels.write.closeChannel([id, 60n * RATE, "0x"], { account: f.creator.account });
      expect(await f.channels.read.balanceOf([addr(f.fan), NATIVE])).to.equal(DEPOSIT - 60n * RATE);
      expect(await f.channels.read.balanceOf([addr(f.creator), NATIVE])).to.equal(split(60n * RATE).creator);
    });
  });
});

/**
 * PaymentChannels, setStreamPrice / streamPrice: who may set the per-minute price, and in which token.
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { keccak256, toHex } from "viem";
import { NATIVE, addr, register, viem } from "../fixture.ts";
import { loadFixture, RATE, MAX_UINT96, channelsFixture, offer } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("setStreamPrice / streamPrice", () => {
    it("the creator sets token and rate; StreamPriceSet; streamPrice reads it back", async () => {
      const f = await loadFixture(channelsFixture);
      const fresh = await register(f, "fresh");
      expect(await f.channels.read.streamPrice([fresh])).to.deep.equal([NATIVE, 0n]);
      expect(await f.channels.read.streamPrice([f.contentId])).to.deep.equal([NATIVE, RATE]);
      const hash = await offer(f, fresh, f.stable.address, 12_345n);
      await viem.assertions.emitWithArgs(hash, f.channels, "StreamPriceSet", [fresh, f.stable.address, 12_345n]);
      expect(await f.channels.read.streamPrice([fresh])).to.deep.equal([f.stable.address, 12_345n]);
      // Rate 0 stops offering it per minute (and is an event too).
      const off = await offer(f, fresh, f.stable.address, 0n);
      await viem.assertions.emitWithArgs(off, f.channels, "StreamPriceSet", [fresh, f.stable.address, 0n]);
      expect(await f.channels.read.streamPrice([fresh])).to.deep.equal([f.stable.address, 0n]);
      // The largest uint96 rate fits.
      await offer(f, fresh, NATIVE, MAX_UINT96);
      expect(await f.channels.read.streamPrice([fresh])).to.deep.equal([NATIVE, MAX_UINT96]);
    });

    it("reverts NotContentCreator for anyone but the item's creator (owner included)", async () => {
      const f = await loadFixture(channelsFixture);
      for (const w of [f.fan, f.stranger, f.deployer, f.collab1]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.setStreamPrice([f.contentId, NATIVE, 1n], { account: w.account }),
          f.channels,
          "NotContentCreator",
          [f.contentId, addr(w)],
        );
      }
      expect(await f.channels.read.streamPrice([f.contentId])).to.deep.equal([NATIVE, RATE]);
    });

    it("reverts UnknownContent (from ContentAccess) for an unregistered item", async () => {
      const f = await loadFixture(channelsFixture);
      const unknown = keccak256(toHex("never registered"));
      await viem.assertions.revertWithCustomErrorWithArgs(
        offer(f, unknown, NATIVE),
        f.contentAccess,
        "UnknownContent",
        [unknown],
      );
    });

    it("reverts TokenNotAccepted for a token ContentAccess does not allow", async () => {
      const f = await loadFixture(channelsFixture);
      const notAllowed = addr(f.stranger);
      await viem.assertions.revertWithCustomErrorWithArgs(
        offer(f, f.contentId, notAllowed, 1n),
        f.channels,
        "TokenNotAccepted",
        [notAllowed],
      );
      await f.contentAccess.write.setPaymentToken([f.stable.address, false]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        offer(f, f.contentId, f.stable.address, 0n),
        f.channels,
        "TokenNotAccepted",
        [f.stable.address],
      );
    });

    it("reverts EnforcedPause while paused; works again after unpause", async () => {
      const f = await loadFixture(channelsFixture);
      await f.channels.write.pause();
      await viem.assertions.revertWithCustomError(offer(f, f.contentId, NATIVE, 2n * RATE), f.channels, "EnforcedPause");
      await f.channels.write.unpause();
      await offer(f, f.contentId, NATIVE, 2n * RATE);
      expect(await f.channels.read.streamPrice([f.contentId])).to.deep.equal([NATIVE, 2n * RATE]);
    });
  });

});

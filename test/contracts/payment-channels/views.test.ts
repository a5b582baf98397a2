/**
 * PaymentChannels, deployment and views: constants, the EIP-712 domain separator and voucher digest.
 * Shared fixture and helpers: ./fixture.ts.
 */
import { expect } from "chai";
import { encodeAbiParameters, hashTypedData, keccak256, toHex } from "viem";
import { DAY, NATIVE, viem } from "../fixture.ts";
import { loadFixture, RATE, MAX_UINT96, Status, channelsFixture, noSessionKey, voucherOf, split } from "./fixture.ts";

describe("PaymentChannels", () => {
  describe("deployment and views", () => {
    it("exposes constants, the split source and an empty channel table", async () => {
      const f = await loadFixture(channelsFixture);
      expect(await f.channels.read.CHALLENGE_PERIOD()).to.equal(DAY);
      expect(await f.channels.read.VOUCHER_TYPEHASH()).to.equal(
        keccak256(toHex("Voucher(uint256 channelId,uint256 cumulativeAmount)")),
      );
      expect((await f.channels.read.splits()).toLowerCase()).to.equal(f.contentAccess.address.toLowerCase());
      expect(await f.channels.read.channelCount()).to.equal(0n);
      expect(await f.channels.read.paused()).to.equal(false);
      const empty = await f.channels.read.getChannel([1n]);
      expect(empty.status).to.equal(Status.None);
      expect(empty.viewer).to.equal(NATIVE);
      expect(empty.deposit).to.equal(0n);
      const sk = await f.channels.read.sessionKeyOf([1n]);
      expect(sk).to.deep.equal(noSessionKey);
    });

    it("domainSeparator is the EIP-712 separator of {name, version, chainId, verifyingContract}", async () => {
      const f = await loadFixture(channelsFixture);
      const expected = keccak256(
        encodeAbiParameters(
          [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }],
          [
            keccak256(toHex("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")),
            keccak256(toHex("StreamVault PaymentChannels")),
            keccak256(toHex("1")),
            BigInt(f.chainId),
            f.channels.address,
          ],
        ),
      );
      expect(await f.channels.read.domainSeparator()).to.equal(expected);
      const [fields, name, version, chainId, verifyingContract, salt, extensions] =
        await f.channels.read.eip712Domain();
      expect(fields).to.equal("0x0f");
      expect(name).to.equal("StreamVault PaymentChannels");
      expect(version).to.equal("1");
      expect(chainId).to.equal(BigInt(f.chainId));
      expect(verifyingContract.toLowerCase()).to.equal(f.channels.address.toLowerCase());
      expect(salt).to.equal(`0x${"00".repeat(32)}`);
      expect(extensions).to.deep.equal([]);
    });

    it("voucherDigest matches viem's hashTypedData", async () => {
      const f = await loadFixture(channelsFixture);
      for (const [id, amount] of [
        [1n, 0n],
        [1n, RATE],
        [42n, 60n * RATE],
        [2n ** 255n, MAX_UINT96],
      ] as const) {
        expect(await f.channels.read.voucherDigest([id, amount])).to.equal(
          hashTypedData(voucherOf(f, id, amount)),
        );
      }
      // The digest binds the channel and the amount.
      expect(await f.channels.read.voucherDigest([1n, RATE])).to.not.equal(
        await f.channels.read.voucherDigest([2n, RATE]),
      );
    });
  });

});

import { expect } from "chai";
import { concat, keccak256, numberToHex, recoverAddress, slice, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";
import { ecrecoverImplementation, recoverSigner } from "@streamvault/lib/chain/ecrecover.ts";

describe("key release: voucher signer recovery (libsecp256k1)", () => {
  it("runs on the native libsecp256k1 build here (a silent fall back to JS would cost 20x per minute key)", () => {
    expect(ecrecoverImplementation).to.equal("libsecp256k1");
  });

  it("recovers the same address as viem for random keys and digests, v as 27/28 and as 0/1", async () => {
    for (let i = 0; i < 100; i++) {
      const privateKey = generatePrivateKey();
      const hash = keccak256(toHex(`digest ${i} ${Math.random()}`));
      const signature = (await sign({ hash, privateKey, to: "hex" })) as Hex;
      const expected = privateKeyToAccount(privateKey).address;
      expect(await recoverSigner(hash, signature)).to.equal(expected);
      expect(await recoverAddress({ hash, signature })).to.equal(expected);
      const v = Number(BigInt(slice(signature, 64, 65)));
      const parity = concat([slice(signature, 0, 64), numberToHex(v - 27, { size: 1 })]);
      expect(await recoverSigner(hash, parity)).to.equal(expected);
      // another digest recovers another address: the signature is bound to what was signed
      expect(await recoverSigner(keccak256(hash), signature)).to.not.equal(expected);
    }
  });

  it("throws on a signature that recovers no key, a bad v, or the wrong length", async () => {
    const hash = keccak256(toHex("x"));
    const zero = `0x${"00".repeat(64)}1b` as Hex;
    let error: unknown;
    await recoverSigner(hash, zero).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(Error);
    const good = (await sign({ hash, privateKey: generatePrivateKey(), to: "hex" })) as Hex;
    for (const bad of [concat([slice(good, 0, 64), "0x05"]), slice(good, 0, 64)]) {
      error = undefined;
      await recoverSigner(hash, bad).catch((e: unknown) => (error = e));
      expect(error, bad).to.be.instanceOf(Error);
    }
  });
});

/**
 * Ownable2Step on ContentAccess and PaymentChannels: two-step transfer, wrong acceptors,
 * overwriting and cancelling a pending transfer, renouncing, and that admin powers follow
 * the owner exactly.
 */
import { expect } from "chai";
import { zeroAddress, type Abi, type Address, type Hash } from "viem";
import { addr, deployFixture, networkHelpers, viem } from "./fixture.ts";

const { loadFixture } = networkHelpers;

async function ownershipFixture() {
  return deployFixture();
}

type F = Awaited<ReturnType<typeof ownershipFixture>>;
type Wallet = F["deployer"];

type WriteOptions = { account: Wallet["account"] };

/** What both contracts share from Ownable2Step and Pausable (their own typed handles satisfy it). */
interface Owned2Step {
  address: Address;
  abi: Abi;
  read: {
    owner(): Promise<Address>;
    pendingOwner(): Promise<Address>;
    paused(): Promise<boolean>;
    // A view since it always reverts; called as a transaction below all the same.
    renounceOwnership(options?: WriteOptions): Promise<void>;
  };
  write: {
    transferOwnership(args: readonly [Address], options?: WriteOptions): Promise<Hash>;
    acceptOwnership(options?: WriteOptions): Promise<Hash>;
    pause(options?: WriteOptions): Promise<Hash>;
    unpause(options?: WriteOptions): Promise<Hash>;
  };
}

const targets: { name: string; pick: (f: F) => Owned2Step }[] = [
  { name: "ContentAccess", pick: (f) => f.contentAccess },
  { name: "PaymentChannels", pick: (f) => f.channels },
];

for (const { name, pick } of targets) {
  describe(`${name} ownership (Ownable2Step)`, () => {
    /** An owner-only call that can be repeated (pause, then unpause if needed). */
    async function adminCall(f: F, as: Wallet) {
      const c = pick(f);
      const paused = await c.read.paused();
      return paused ? c.write.unpause({ account: as.account }) : c.write.pause({ account: as.account });
    }

    it("starts owned by the deployer with no pending owner", async () => {
      const f = await loadFixture(ownershipFixture);
      const c = pick(f);
      expect(await c.read.owner()).to.equal(addr(f.deployer));
      expect(await c.read.pendingOwner()).to.equal(zeroAddress);
    });

    it("transferOwnership only records a pending owner; the old owner keeps control until acceptance", async () => {
      const f = await loadFixture(ownershipFixture);
      const c = pick(f);
      await viem.assertions.emitWithArgs(
        c.write.transferOwnership([addr(f.treasury)]),
        c,
        "OwnershipTransferStarted",
        [addr(f.deployer), addr(f.treasury)],
      );
      expect(await c.read.owner()).to.equal(addr(f.deployer));
      expect(await c.read.pendingOwner()).to.equal(addr(f.treasury));
      await viem.assertions.revertWithCustomErrorWithArgs(
        adminCall(f, f.treasury),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.treasury)],
      );
      await adminCall(f, f.deployer);
      expect(await c.read.paused()).to.equal(true);
    });

    it("reverts transferOwnership from a non-owner", async () => {
      const f = await loadFixture(ownershipFixture);
      const c = pick(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        c.write.transferOwnership([addr(f.stranger)], { account: f.stranger.account }),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.stranger)],
      );
      expect(await c.read.pendingOwner()).to.equal(zeroAddress);
    });

    it("acceptOwnership by anyone but the pending owner reverts (the current owner included)", async () => {
      const f = await loadFixture(ownershipFixture);
      const c = pick(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        c.write.acceptOwnership({ account: f.stranger.account }),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.stranger)],
      );
      await c.write.transferOwnership([addr(f.treasury)]);
      for (const w of [f.stranger, f.creator, f.deployer]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          c.write.acceptOwnership({ account: w.account }),
          c,
          "OwnableUnauthorizedAccount",
          [addr(w)],
        );
      }
      expect(await c.read.owner()).to.equal(addr(f.deployer));
      expect(await c.read.pendingOwner()).to.equal(addr(f.treasury));
    });

    it("acceptOwnership by the pending owner moves ownership and admin powers", async () => {
      const f = await loadFixture(ownershipFixture);
      const c = pick(f);
      await c.write.transferOwnership([addr(f.treasury)]);
      await viem.assertions.emitWithArgs(
        c.write.acceptOwnership({ account: f.treasury.account }),
        c,
        "OwnershipTransferred",
        [addr(f.deployer), addr(f.treasury)],
      );
      expect(await c.read.owner()).to.equal(addr(f.treasury));
      expect(await c.read.pendingOwner()).to.equal(zeroAddress);
      await viem.assertions.revertWithCustomErrorWithArgs(
        adminCall(f, f.deployer),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.deployer)],
      );
      await adminCall(f, f.treasury);
      expect(await c.read.paused()).to.equal(true);
      // Accepting twice is not possible.
      await viem.assertions.revertWithCustomErrorWithArgs(
        c.write.acceptOwnership({ account: f.treasury.account }),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.treasury)],
      );
    });

    it("a new transferOwnership replaces the pending owner; transferring to zero cancels", async () => {
      const f = await loadFixture(ownershipFixture);
      const c = pick(f);
      await c.write.transferOwnership([addr(f.treasury)]);
      await c.write.transferOwnership([addr(f.creator)]);
      expect(await c.read.pendingOwner()).to.equal(addr(f.creator));
      await viem.assertions.revertWithCustomErrorWithArgs(
        c.write.acceptOwnership({ account: f.treasury.account }),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.treasury)],
      );
      await c.write.transferOwnership([zeroAddress]);
      expect(await c.read.pendingOwner()).to.equal(zeroAddress);
      await viem.assertions.revertWithCustomErrorWithArgs(
        c.write.acceptOwnership({ account: f.creator.account }),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.creator)],
      );
      expect(await c.read.owner()).to.equal(addr(f.deployer));
    });

    it("renounceOwnership is disabled (an ownerless contract could never be paused again)", async () => {
      const f = await loadFixture(ownershipFixture);
      const c = pick(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        c.read.renounceOwnership({ account: f.stranger.account }),
        c,
        "OwnableUnauthorizedAccount",
        [addr(f.stranger)],
      );
      await viem.assertions.revertWithCustomError(c.read.renounceOwnership({ account: f.deployer.account }), c, "RenounceDisabled");
      expect(await c.read.owner()).to.equal(addr(f.deployer));
    });
  });
}

describe("ContentAccess admin functions follow the owner", () => {
  it("setTreasury, setPlatformFee, setPaymentToken, setSubscriptionPrice move to the new owner", async () => {
    const f = await loadFixture(ownershipFixture);
    const ca = f.contentAccess;
    await ca.write.transferOwnership([addr(f.treasury)]);
    await ca.write.acceptOwnership({ account: f.treasury.account });
    const old = f.deployer;
    const calls = (as: Wallet) => [
      () => ca.write.setTreasury([addr(f.collab1)], { account: as.account }),
      () => ca.write.setPlatformFee([500], { account: as.account }),
      () => ca.write.setPaymentToken([addr(f.collab2), true], { account: as.account }),
      () => ca.write.setSubscriptionPrice([zeroAddress, 1n], { account: as.account }),
    ];
    for (const call of calls(old)) {
      await viem.assertions.revertWithCustomErrorWithArgs(call(), ca, "OwnableUnauthorizedAccount", [addr(old)]);
    }
    await viem.assertions.revertWithCustomErrorWithArgs(
      ca.write.setCreatorRegistry([addr(f.collab2)], { account: old.account }),
      ca,
      "OwnableUnauthorizedAccount",
      [addr(old)],
    );
    // For the new owner it gets past onlyOwner (and then is refused because it is set once).
    await viem.assertions.revertWithCustomError(
      ca.write.setCreatorRegistry([addr(f.collab2)], { account: f.treasury.account }),
      ca,
      "RegistryAlreadySet",
    );
    for (const call of calls(f.treasury)) await call();
    expect(await ca.read.treasury()).to.equal(addr(f.collab1));
    expect(await ca.read.platformFeeBps()).to.equal(500);
    expect(await ca.read.isPaymentToken([addr(f.collab2)])).to.equal(true);
    expect(await ca.read.subscriptionPrice([zeroAddress])).to.equal(1n);
  });
});

import { expect } from "chai";
import { signPermit } from "@streamvault/lib/chain/permit.ts";
import { parseEther, zeroAddress, type Address, type Hex } from "viem";
import {
  addr,
  DAY,
  deployFixture,
  externalId,
  launch,
  NATIVE,
  networkHelpers,
  noRules,
  Reason,
  register,
  SAMPLE_CID,
  THIRTY_DAYS,
  Tier,
  viem,
  type Fixture,
} from "./fixture.ts";

const PRICE = parseEther("0.01");

async function now(f: Fixture) {
  return (await f.publicClient.getBlock()).timestamp;
}

async function signPermitFor(f: Fixture, owner: Fixture["fan"], token: Fixture["stable"], spender: Address, value: bigint, deadline: bigint) {
  const [, name, version] = await token.read.eip712Domain();
  return signPermit(owner, {
    token: { address: token.address, name, version },
    chainId: await f.publicClient.getChainId(),
    owner: addr(owner),
    spender,
    value,
    nonce: await token.read.nonces([addr(owner)]),
    deadline,
  });
}

describe("ContentAccess", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
  });

  describe("admin", () => {
    it("links the creator registry exactly once", async () => {
      expect(await f.contentAccess.read.creatorRegistry()).to.equal(f.registry.address);
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.setCreatorRegistry([f.registry.address]),
        f.contentAccess,
        "RegistryAlreadySet",
      );
      const fresh = await viem.deployContract("ContentAccess", [addr(f.deployer), addr(f.treasury), 300]);
      await viem.assertions.revertWithCustomError(fresh.write.setCreatorRegistry([zeroAddress]), fresh, "ZeroAddress");
      await viem.assertions.revertWithCustomError(
        fresh.write.setCreatorRegistry([f.registry.address], { account: f.fan.account }),
        fresh,
        "OwnableUnauthorizedAccount",
      );
      await viem.assertions.emitWithArgs(fresh.write.setCreatorRegistry([f.registry.address]), fresh, "CreatorRegistrySet", [
        f.registry.address,
      ]);
    });

    it("sets treasury and fee under the hard cap, owner only", async () => {
      await viem.assertions.emitWithArgs(f.contentAccess.write.setPlatformFee([1_000]), f.contentAccess, "PlatformFeeUpdated", [1_000]);
      expect(await f.contentAccess.read.platformFeeBps()).to.equal(1_000);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.setPlatformFee([1_001]),
        f.contentAccess,
        "FeeTooHigh",
        [1_001, 1_000],
      );
      await viem.assertions.emitWithArgs(f.contentAccess.write.setTreasury([addr(f.stranger)]), f.contentAccess, "TreasuryUpdated", [
        addr(f.stranger),
      ]);
      await viem.assertions.revertWithCustomError(f.contentAccess.write.setTreasury([zeroAddress]), f.contentAccess, "ZeroAddress");
      for (const call of [
        f.contentAccess.write.setPlatformFee([1], { account: f.fan.account }),
        f.contentAccess.write.setTreasury([addr(f.fan)], { account: f.fan.account }),
        f.contentAccess.write.setPaymentToken([f.stable.address, false], { account: f.fan.account }),
        f.contentAccess.write.setSubscriptionPrice([NATIVE, 1n], { account: f.fan.account }),
        f.contentAccess.write.pause({ account: f.fan.account }),
        f.contentAccess.write.unpause({ account: f.fan.account }),
      ]) {
        await viem.assertions.revertWithCustomError(call, f.contentAccess, "OwnableUnauthorizedAccount");
      }
      await viem.deployContract("ContentAccess", [addr(f.deployer), zeroAddress, 300]).then(
        () => expect.fail("deployed with a zero treasury"),
        (error: Error) => expect(String(error.cause ?? error)).to.contain("ZeroAddress"),
      );
    });

    it("manages the payment-token allow-list and subscription prices", async () => {
      expect(await f.contentAccess.read.isPaymentToken([NATIVE])).to.equal(true);
      expect(await f.contentAccess.read.isPaymentToken([f.stable.address])).to.equal(true);
      await viem.assertions.emitWithArgs(
        f.contentAccess.write.setPaymentToken([f.stable.address, false]),
        f.contentAccess,
        "PaymentTokenUpdated",
        [f.stable.address, false],
      );
      expect(await f.contentAccess.read.isPaymentToken([f.stable.address])).to.equal(false);
      await viem.assertions.revertWithCustomError(f.contentAccess.write.setPaymentToken([NATIVE, true]), f.contentAccess, "ZeroAddress");
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.setSubscriptionPrice([f.stable.address, 1n]),
        f.contentAccess,
        "TokenNotAccepted",
      );
      await viem.assertions.emitWithArgs(
        f.contentAccess.write.setSubscriptionPrice([NATIVE, 7n]),
        f.contentAccess,
        "SubscriptionPriceUpdated",
        [NATIVE, 7n],
      );
      expect(await f.contentAccess.read.subscriptionPrice([NATIVE])).to.equal(7n);
    });

    it("pause stops sales and registration but never withdrawals", async () => {
      const id = await register(f, "song", { rules: { price: PRICE } });
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      await f.contentAccess.write.pause();
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE }),
        f.contentAccess,
        "EnforcedPause",
      );
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.subscribe([NATIVE, 1, parseEther("0.01")], { account: f.fan.account, value: parseEther("0.01") }),
        f.contentAccess,
        "EnforcedPause",
      );
      await viem.assertions.revertWithCustomError(register(f, "other"), f.contentAccess, "EnforcedPause");
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.updateRules([id, noRules], { account: f.creator.account }),
        f.contentAccess,
        "EnforcedPause",
      );
      const owed = await f.contentAccess.read.balanceOf([addr(f.creator), NATIVE]);
      await viem.assertions.balancesHaveChanged(f.contentAccess.write.withdraw([NATIVE], { account: f.creator.account }), [
        { address: addr(f.creator), amount: owed },
      ]);
      await f.contentAccess.write.unpause();
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
    });
  });

  describe("registration and rule updates", () => {
    it("registers with a creator-namespaced id and stores everything", async () => {
      const collaborators = [{ account: addr(f.collab1), shareBps: 2_000 }];
      const rules = { ...noRules, price: PRICE, inSubscription: true, duration: 7 * 86_400 };
      const ext = externalId("track-1");
      const hash = f.contentAccess.write.registerContent([ext, SAMPLE_CID, Tier.Exclusive, rules, collaborators], {
        account: f.creator.account,
      });
      const id = await f.contentAccess.read.contentIdOf([addr(f.creator), ext]);
      await viem.assertions.emitWithArgs(hash, f.contentAccess, "ContentRegistered", [
        id,
        addr(f.creator),
        ext,
        SAMPLE_CID,
        Tier.Exclusive,
        rules,
        collaborators,
      ]);
      const [creator, tier, cid, storedRules, storedCollabs] = await f.contentAccess.read.contentInfo([id]);
      expect(creator).to.equal(addr(f.creator));
      expect(tier).to.equal(Tier.Exclusive);
      expect(cid).to.equal(SAMPLE_CID);
      expect(storedRules).to.deep.equal(rules);
      expect(storedCollabs).to.deep.equal(collaborators);
      // Same external id by another creator is a different item.
      expect(await f.contentAccess.read.contentIdOf([addr(f.fan), ext])).to.not.equal(id);
    });

    it("rejects duplicates and invalid input", async () => {
      await register(f, "dup");
      await viem.assertions.revertWithCustomError(register(f, "dup"), f.contentAccess, "ContentExists");
      const reg = (cid: Hex, rules = noRules, collabs: { account: Address; shareBps: number }[] = []) =>
        f.contentAccess.write.registerContent([externalId(Math.random().toString()), cid, Tier.Premium, rules, collabs], {
          account: f.creator.account,
        });
      await viem.assertions.revertWithCustomError(reg("0x"), f.contentAccess, "EmptyManifest");
      await viem.assertions.revertWithCustomError(
        reg(SAMPLE_CID, { ...noRules, paymentToken: f.fan.account.address }),
        f.contentAccess,
        "TokenNotAccepted",
      );
      await viem.assertions.revertWithCustomError(
        reg(SAMPLE_CID, { ...noRules, minCoinBalance: 1n }),
        f.contentAccess,
        "CreatorNotLaunched",
      );
      await viem.assertions.revertWithCustomError(
        reg(SAMPLE_CID, noRules, Array.from({ length: 17 }, () => ({ account: addr(f.collab1), shareBps: 1 }))),
        f.contentAccess,
        "TooManyCollaborators",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg(SAMPLE_CID, noRules, [{ account: zeroAddress, shareBps: 1 }]),
        f.contentAccess,
        "InvalidCollaborator",
        [0n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg(SAMPLE_CID, noRules, [{ account: addr(f.collab1), shareBps: 0 }]),
        f.contentAccess,
        "InvalidCollaborator",
        [0n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg(SAMPLE_CID, noRules, [
          { account: addr(f.collab1), shareBps: 6_000 },
          { account: addr(f.collab2), shareBps: 4_001 },
        ]),
        f.contentAccess,
        "SharesExceedTotal",
        [10_001n],
      );
    });

    it("only the creator updates rules, collaborators and manifest", async () => {
      const id = await register(f, "song", { rules: { price: PRICE } });
      const unknown = externalId("nope");
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.updateRules([id, noRules], { account: f.fan.account }),
        f.contentAccess,
        "NotContentCreator",
      );
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.updateRules([unknown, noRules], { account: f.creator.account }),
        f.contentAccess,
        "UnknownContent",
      );
      const rules = { ...noRules, price: PRICE * 2n, paymentToken: f.stable.address };
      await viem.assertions.emitWithArgs(
        f.contentAccess.write.updateRules([id, rules], { account: f.creator.account }),
        f.contentAccess,
        "RulesUpdated",
        [id, rules, 2],
      );
      const collabs = [{ account: addr(f.collab2), shareBps: 5_000 }];
      await viem.assertions.emitWithArgs(
        f.contentAccess.write.updateCollaborators([id, collabs], { account: f.creator.account }),
        f.contentAccess,
        "CollaboratorsUpdated",
        [id, collabs],
      );
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.updateCollaborators([id, collabs], { account: f.fan.account }),
        f.contentAccess,
        "NotContentCreator",
      );
      expect((await f.contentAccess.read.revenueSplit([id])).collaborators).to.deep.equal(collabs);
      await viem.assertions.emitWithArgs(
        f.contentAccess.write.updateManifest([id, "0x0102"], { account: f.creator.account }),
        f.contentAccess,
        "ManifestUpdated",
        [id, "0x0102"],
      );
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.updateManifest([id, "0x"], { account: f.creator.account }),
        f.contentAccess,
        "EmptyManifest",
      );
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.updateManifest([id, "0x01"], { account: f.fan.account }),
        f.contentAccess,
        "NotContentCreator",
      );
      const [, , cid] = await f.contentAccess.read.contentInfo([id]);
      expect(cid).to.equal("0x0102");
      await viem.assertions.revertWithCustomError(f.contentAccess.read.contentInfo([unknown]), f.contentAccess, "UnknownContent");
      await viem.assertions.revertWithCustomError(f.contentAccess.read.revenueSplit([unknown]), f.contentAccess, "UnknownContent");
    });

    it("a rule update never cuts short access already paid for", async () => {
      const id = await register(f, "song", { rules: { price: PRICE, duration: 10 * 86_400 } });
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      const paidUntil = await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)]);
      await f.contentAccess.write.updateRules([id, { ...noRules, duration: 1 }], { account: f.creator.account });
      expect(await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)])).to.equal(paidUntil);
      const [reason, expiresAt] = await f.contentAccess.read.accessOf([addr(f.fan), id]);
      expect(reason).to.equal(Reason.Purchase);
      expect(expiresAt).to.equal(paidUntil);
    });
  });

  describe("purchaseAccess", () => {
    it("native: exact price, 30 days by default, split 3% / collaborators / creator", async () => {
      const id = await register(f, "song", {
        rules: { price: PRICE },
        collaborators: [
          { account: addr(f.collab1), shareBps: 2_500 },
          { account: addr(f.collab2), shareBps: 1_000 },
        ],
      });
      const tx = f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.fan), amount: -PRICE },
        { address: f.contentAccess.address, amount: PRICE },
      ]);
      const fee = (PRICE * 300n) / 10_000n;
      const net = PRICE - fee;
      const c1 = (net * 2_500n) / 10_000n;
      const c2 = (net * 1_000n) / 10_000n;
      const bal = (w: Fixture["fan"]) => f.contentAccess.read.balanceOf([addr(w), NATIVE]);
      expect(await bal(f.treasury)).to.equal(fee);
      expect(await bal(f.collab1)).to.equal(c1);
      expect(await bal(f.collab2)).to.equal(c2);
      expect(await bal(f.creator)).to.equal(net - c1 - c2);
      const expiry = await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)]);
      expect(expiry).to.equal((await now(f)) + THIRTY_DAYS);
      const events = await f.contentAccess.getEvents.AccessPurchased();
      expect(events[0].args).to.deep.include({ contentId: id, buyer: addr(f.fan), amount: PRICE, expiresAt: expiry });
    });

    it("extends from the current expiry when bought early, from now when lapsed", async () => {
      const id = await register(f, "song", { rules: { price: PRICE } });
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      const first = await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)]);
      await networkHelpers.time.increase(10n * DAY);
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      expect(await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)])).to.equal(first + THIRTY_DAYS);
      await networkHelpers.time.increase(100n * DAY);
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      expect(await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)])).to.equal((await now(f)) + THIRTY_DAYS);
    });

    it("rejects wrong payment, unsellable and unknown items", async () => {
      const id = await register(f, "song", { rules: { price: PRICE } });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE + 1n }),
        f.contentAccess,
        "WrongPayment",
        [PRICE, PRICE + 1n],
      );
      const notForSale = await register(f, "gift");
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.purchaseAccess([notForSale, 1], { account: f.fan.account }),
        f.contentAccess,
        "NotForSale",
      );
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.purchaseAccess([externalId("x"), 1], { account: f.fan.account }),
        f.contentAccess,
        "UnknownContent",
      );
      // Nothing was kept: the failed attempts left no balance behind.
      expect(await f.publicClient.getBalance({ address: f.contentAccess.address })).to.equal(0n);
    });

    it("a buyer pays for the terms they saw: a rule change in between (even at the same price) fails the purchase", async () => {
      const id = await register(f, "song", { rules: { price: PRICE, duration: 30 * 86_400 } });
      const [token, price, duration, version] = await f.contentAccess.read.purchaseTerms([id]);
      expect([token, price, duration, version]).to.deep.equal([NATIVE, PRICE, THIRTY_DAYS, 1]);
      // The creator front-runs the buyer: same price, one second of access.
      await viem.assertions.emitWithArgs(
        f.contentAccess.write.updateRules([id, { ...noRules, price: PRICE, duration: 1 }], { account: f.creator.account }),
        f.contentAccess,
        "RulesUpdated",
        [id, { ...noRules, price: PRICE, duration: 1 }, 2],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.purchaseAccess([id, version], { account: f.fan.account, value: PRICE }),
        f.contentAccess,
        "TermsChanged",
        [2, 1],
      );
      // Same trick with another allow-listed token at the same number: refused as well.
      await f.contentAccess.write.updateRules([id, { ...noRules, price: PRICE, paymentToken: f.stable.address }], {
        account: f.creator.account,
      });
      await f.stable.write.mint([addr(f.fan), PRICE]);
      await f.stable.write.approve([f.contentAccess.address, PRICE], { account: f.fan.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.purchaseAccess([id, 2], { account: f.fan.account }),
        f.contentAccess,
        "TermsChanged",
        [3, 2],
      );
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(PRICE);
      await viem.assertions.revertWithCustomError(f.contentAccess.read.purchaseTerms([externalId("none")]), f.contentAccess, "UnknownContent");
    });

    it("ERC-20: pulls exactly the price with an approval; native value is refused", async () => {
      const id = await register(f, "song", { rules: { price: 5_000_000n, paymentToken: f.stable.address } });
      await f.stable.write.mint([addr(f.fan), 10_000_000n]);
      await f.stable.write.approve([f.contentAccess.address, 5_000_000n], { account: f.fan.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: 1n }),
        f.contentAccess,
        "WrongPayment",
        [0n, 1n],
      );
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account });
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(5_000_000n);
      expect(await f.stable.read.balanceOf([f.contentAccess.address])).to.equal(5_000_000n);
      expect(await f.contentAccess.read.balanceOf([addr(f.treasury), f.stable.address])).to.equal(150_000n);
      expect(await f.contentAccess.read.balanceOf([addr(f.creator), f.stable.address])).to.equal(4_850_000n);
      // De-listing the token stops sales in it.
      await f.contentAccess.write.setPaymentToken([f.stable.address, false]);
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account }),
        f.contentAccess,
        "TokenNotAccepted",
      );
    });

    it("ERC-20 with permit: one transaction, and still works if the permit was front-run", async () => {
      const price = 5_000_000n;
      const id = await register(f, "song", { rules: { price, paymentToken: f.stable.address } });
      await f.stable.write.mint([addr(f.fan), 3n * price]);
      const deadline = (await now(f)) + 3600n;
      const p = await signPermitFor(f, f.fan, f.stable, f.contentAccess.address, price, deadline);
      await f.contentAccess.write.purchaseAccessWithPermit([id, 1, deadline, p.v, p.r, p.s], { account: f.fan.account });
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), id])).to.equal(true);
      // Someone submits the fan's permit first: the purchase still goes through on the allowance.
      const p2 = await signPermitFor(f, f.fan, f.stable, f.contentAccess.address, price, deadline);
      await f.stable.write.permit([addr(f.fan), f.contentAccess.address, price, deadline, p2.v, p2.r, p2.s], {
        account: f.stranger.account,
      });
      await f.contentAccess.write.purchaseAccessWithPermit([id, 1, deadline, p2.v, p2.r, p2.s], { account: f.fan.account });
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(price);
      // Without any allowance the transfer fails and nothing changes.
      const before = await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)]);
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.purchaseAccessWithPermit([id, 1, deadline, p2.v, p2.r, p2.s], { account: f.fan.account }),
        f.stable,
        "ERC20InsufficientAllowance",
      );
      expect(await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)])).to.equal(before);
    });

    it("permit path on a native-priced item asks for the value it cannot carry", async () => {
      const id = await register(f, "song", { rules: { price: PRICE } });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.purchaseAccessWithPermit([id, 1, 0n, 27, SAMPLE_CID.slice(0, 66) as Hex, SAMPLE_CID.slice(0, 66) as Hex], {
          account: f.fan.account,
        }),
        f.contentAccess,
        "WrongPayment",
        [PRICE, 0n],
      );
    });
  });

  describe("subscribe", () => {
    const SUB = parseEther("0.01");
    it("buys and extends 30-day periods; the platform gets the payment", async () => {
      await f.contentAccess.write.subscribe([NATIVE, 2, SUB * 2n], { account: f.fan.account, value: SUB * 2n });
      const until = await f.contentAccess.read.subscriptionExpiry([addr(f.fan)]);
      expect(until).to.equal((await now(f)) + 2n * THIRTY_DAYS);
      await f.contentAccess.write.subscribe([NATIVE, 1, SUB], { account: f.fan.account, value: SUB });
      expect(await f.contentAccess.read.subscriptionExpiry([addr(f.fan)])).to.equal(until + THIRTY_DAYS);
      expect(await f.contentAccess.read.balanceOf([addr(f.treasury), NATIVE])).to.equal(SUB * 3n);
      const events = await f.contentAccess.getEvents.Subscribed();
      expect(events[0].args).to.deep.include({ subscriber: addr(f.fan), periods: 1, amount: SUB });
    });

    it("accepts the stablecoin", async () => {
      await f.stable.write.mint([addr(f.fan), 5_000_000n]);
      await f.stable.write.approve([f.contentAccess.address, 5_000_000n], { account: f.fan.account });
      await f.contentAccess.write.subscribe([f.stable.address, 1, 5_000_000n], { account: f.fan.account });
      expect(await f.contentAccess.read.subscriptionExpiry([addr(f.fan)]) > 0n).to.equal(true);
    });

    it("rejects zero periods, unoffered tokens, a changed total and wrong value", async () => {
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.subscribe([NATIVE, 0, 0n], { account: f.fan.account }),
        f.contentAccess,
        "ZeroPeriods",
      );
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.subscribe([addr(f.stranger), 1, 1n], { account: f.fan.account }),
        f.contentAccess,
        "SubscriptionNotOffered",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.subscribe([NATIVE, 2, SUB], { account: f.fan.account, value: SUB }),
        f.contentAccess,
        "PriceChanged",
        [SUB * 2n, SUB],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.contentAccess.write.subscribe([NATIVE, 1, SUB], { account: f.fan.account, value: 1n }),
        f.contentAccess,
        "WrongPayment",
        [SUB, 1n],
      );
    });
  });

  describe("hasValidAccess / accessOf", () => {
    it("gives each reason in order, with its expiry", async () => {
      const { coin, pass } = await launch(f);
      const max = 2n ** 64n - 1n;
      const premium = await register(f, "premium", {
        rules: { minCoinBalance: 100n, minPasses: 1n, inSubscription: true, price: PRICE },
      });
      const free = await register(f, "free", { tier: Tier.Free });
      const check = async (user: Address, id: Hex) => f.contentAccess.read.accessOf([user, id]);

      expect(await check(addr(f.fan), premium)).to.deep.equal([Reason.None, 0n]);
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), premium])).to.equal(false);
      expect(await check(addr(f.creator), premium)).to.deep.equal([Reason.Creator, max]);
      expect(await check(addr(f.fan), free)).to.deep.equal([Reason.Free, max]);
      expect(await check(addr(f.fan), externalId("unknown"))).to.deep.equal([Reason.None, 0n]);

      await f.contentAccess.write.purchaseAccess([premium, 1], { account: f.fan.account, value: PRICE });
      const bought = await f.contentAccess.read.purchaseExpiry([premium, addr(f.fan)]);
      expect(await check(addr(f.fan), premium)).to.deep.equal([Reason.Purchase, bought]);

      await f.contentAccess.write.subscribe([NATIVE, 1, parseEther("0.01")], { account: f.fan.account, value: parseEther("0.01") });
      const subUntil = await f.contentAccess.read.subscriptionExpiry([addr(f.fan)]);
      expect(await check(addr(f.fan), premium)).to.deep.equal([Reason.Subscription, subUntil]);

      await pass.write.airdrop([[addr(f.fan)]], { account: f.creator.account });
      expect(await check(addr(f.fan), premium)).to.deep.equal([Reason.Pass, max]);

      await coin.write.transfer([addr(f.fan), 100n], { account: f.creator.account });
      expect(await check(addr(f.fan), premium)).to.deep.equal([Reason.Coin, max]);
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), premium])).to.equal(true);
    });

    it("a purchase lapses exactly at its expiry (one second later: refused)", async () => {
      const id = await register(f, "song", { rules: { price: PRICE } });
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      const expiry = await f.contentAccess.read.purchaseExpiry([id, addr(f.fan)]);
      await networkHelpers.time.setNextBlockTimestamp(expiry - 1n);
      await networkHelpers.mine();
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), id])).to.equal(true);
      await networkHelpers.mine();
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), id])).to.equal(false);
    });

    it("a subscription only opens items included in it", async () => {
      const included = await register(f, "in", { rules: { inSubscription: true } });
      const excluded = await register(f, "out", { rules: { inSubscription: false } });
      await f.contentAccess.write.subscribe([NATIVE, 1, parseEther("0.01")], { account: f.fan.account, value: parseEther("0.01") });
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), included])).to.equal(true);
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), excluded])).to.equal(false);
    });

    it("access follows the pass and the coin when they move", async () => {
      const { coin, pass } = await launch(f);
      const byPass = await register(f, "p", { rules: { minPasses: 1n } });
      const byCoin = await register(f, "c", { rules: { minCoinBalance: 50n } });
      await pass.write.mint([1n], { account: f.fan.account, value: parseEther("0.05") });
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), byPass])).to.equal(true);
      await pass.write.transferFrom([addr(f.fan), addr(f.fan2), 1n], { account: f.fan.account });
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), byPass])).to.equal(false);
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan2), byPass])).to.equal(true);

      await coin.write.transfer([addr(f.fan), 50n], { account: f.creator.account });
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), byCoin])).to.equal(true);
      await coin.write.transfer([addr(f.fan2), 1n], { account: f.fan.account });
      expect(await f.contentAccess.read.hasValidAccess([addr(f.fan), byCoin])).to.equal(false);
    });
  });

  describe("depositPassRevenue and withdraw", () => {
    it("only the creator's own pass may deposit mint revenue", async () => {
      await launch(f);
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.depositPassRevenue([addr(f.creator)], { account: f.fan.account, value: 1n }),
        f.contentAccess,
        "NotCreatorPass",
      );
      const { pass: otherPass } = await launch(f, f.fan);
      await networkHelpers.impersonateAccount(otherPass.address);
      await networkHelpers.setBalance(otherPass.address, parseEther("1"));
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.depositPassRevenue([addr(f.creator)], { account: otherPass.address, value: 1n }),
        f.contentAccess,
        "NotCreatorPass",
      );
    });

    it("withdraw pays the whole balance once, per token", async () => {
      const id = await register(f, "song", { rules: { price: PRICE } });
      await f.contentAccess.write.purchaseAccess([id, 1], { account: f.fan.account, value: PRICE });
      const owed = await f.contentAccess.read.balanceOf([addr(f.creator), NATIVE]);
      const tx = f.contentAccess.write.withdraw([NATIVE], { account: f.creator.account });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.creator), amount: owed },
        { address: f.contentAccess.address, amount: -owed },
      ]);
      const events = await f.contentAccess.getEvents.Withdrawn();
      expect(events[0].args).to.deep.equal({ payee: addr(f.creator), token: NATIVE, amount: owed });
      await viem.assertions.revertWithCustomError(
        f.contentAccess.write.withdraw([NATIVE], { account: f.creator.account }),
        f.contentAccess,
        "NothingToWithdraw",
      );
      // ERC-20 side.
      const tid = await register(f, "t", { rules: { price: 1_000_000n, paymentToken: f.stable.address } });
      await f.stable.write.mint([addr(f.fan), 1_000_000n]);
      await f.stable.write.approve([f.contentAccess.address, 1_000_000n], { account: f.fan.account });
      await f.contentAccess.write.purchaseAccess([tid, 1], { account: f.fan.account });
      await f.contentAccess.write.withdraw([f.stable.address], { account: f.treasury.account });
      expect(await f.stable.read.balanceOf([addr(f.treasury)])).to.equal(30_000n);
    });
  });
});

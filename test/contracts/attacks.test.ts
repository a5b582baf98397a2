/**
 * Attack scenarios end to end, against the system exactly as `deploySystem` wires it: hostile
 * contracts (contracts/mocks/attack) re-entering through the callbacks they control, vouchers signed
 * off-chain by viem wallets (the format the app uses) replayed or malleated, a viewer trying to
 * dodge a voucher, and a fake pass. The Solidity tests beside this file (*.t.sol) cover the same ground with
 * fuzzing; these pin the behaviour through the real deployment path and the real signer.
 */
import { expect } from "chai";
import {
  encodeFunctionData,
  parseEther,
  parseEventLogs,
  parseSignature,
  serializeSignature,
  toFunctionSelector,
  type Address,
  type Hash,
  type Hex,
} from "viem";
import { DAY, NATIVE, addr, deployFixture, launch, networkHelpers, register, viem, type Fixture } from "./fixture.ts";
import { voucherTypedData } from "@streamvault/lib/chain/voucher.ts";

const { time, loadFixture } = networkHelpers;

const REENTRANT = toFunctionSelector("ReentrancyGuardReentrantCall()");
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const DEPOSIT = parseEther("1");

async function attackFixture() {
  const f = await deployFixture();
  const attacker = await viem.deployContract("Attacker");
  const evil = await viem.deployContract("ReentrantToken");
  // The owner's mistake these scenarios assume: a hostile token on the allow-list.
  await f.contentAccess.write.setPaymentToken([evil.address, true], { account: f.deployer.account });
  const chainId = await f.publicClient.getChainId();
  return { ...f, attacker, evil, chainId };
}

type F = Awaited<ReturnType<typeof attackFixture>>;

/** The attacker contract calls `target` with `data` (and `value`) as itself. */
async function asAttacker(f: F, target: Address, abi: readonly unknown[], functionName: string, args: unknown[], value = 0n) {
  const data = encodeFunctionData({ abi, functionName, args } as never);
  return f.attacker.write.execute([target, data, value], { value, account: f.stranger.account });
}

/** Arms the attacker's one-shot re-entry. */
async function arm(f: F, target: Address, abi: readonly unknown[], functionName: string, args: unknown[], value = 0n) {
  const data = encodeFunctionData({ abi, functionName, args } as never);
  await f.attacker.write.arm([target, data, value]);
}

async function expectReentryBlocked(f: F) {
  expect(await f.attacker.read.reentered()).to.equal(true, "callback ran");
  expect(await f.attacker.read.reentryOk()).to.equal(false, "re-entry got through");
  expect((await f.attacker.read.reentryError()).slice(0, 10)).to.equal(REENTRANT);
}

async function eventsIn(hash: Hash, contract: { address: Address; abi: readonly unknown[] }, eventName: string) {
  const receipt = await (await viem.getPublicClient()).waitForTransactionReceipt({ hash });
  const own = receipt.logs.filter((l) => l.address.toLowerCase() === contract.address.toLowerCase());
  return parseEventLogs({ abi: contract.abi as never, eventName, logs: own } as never);
}

function voucher(f: F, channelId: bigint, cumulativeAmount: bigint, verifyingContract: Address = f.channels.address) {
  return voucherTypedData(f.chainId, verifyingContract, channelId, cumulativeAmount);
}

async function openNative(f: F, channels: F["channels"] = f.channels, contentId?: Hex, expiresIn = 30n * DAY) {
  const id = contentId ?? (await register(f, `stream-${Math.random()}`));
  const expiresAt = BigInt(await time.latest()) + expiresIn;
  const params = {
    contentId: id,
    token: NATIVE as Address,
    deposit: DEPOSIT,
    ratePerMinute: 1n,
    expiresAt,
    sessionKey: { key: NATIVE as Address, spendingCap: 0n, expiresAt: 0n },
  };
  // The creator offers the item per minute at the rate the fan opens at.
  await channels.write.setStreamPrice([id, NATIVE, 1n], { account: f.creator.account });
  await channels.write.openChannel([params], { account: f.fan.account, value: DEPOSIT });
  return { channelId: await channels.read.channelCount(), contentId: id };
}

async function sumOwed(f: Fixture | F, token: Address, who: Address[]) {
  let total = 0n;
  for (const a of who) total += await f.contentAccess.read.balanceOf([a, token]);
  return total;
}

describe("attacks", () => {
  it("a malicious allow-listed ERC-20 cannot re-enter purchaseAccess", async () => {
    const f = await loadFixture(attackFixture);
    const contentId = await register(f, "evil-priced", { rules: { paymentToken: f.evil.address, price: 100n, duration: Number(DAY) } });
    await f.evil.write.mint([f.attacker.address, 200n]);
    await asAttacker(f, f.evil.address, f.evil.abi, "approve", [f.contentAccess.address, 200n]);
    await f.evil.write.setHook([f.attacker.address]);
    await arm(f, f.contentAccess.address, f.contentAccess.abi, "purchaseAccess", [contentId, 1]);

    const hash = await asAttacker(f, f.contentAccess.address, f.contentAccess.abi, "purchaseAccess", [contentId, 1]);

    await expectReentryBlocked(f);
    expect(await eventsIn(hash, f.contentAccess, "AccessPurchased")).to.have.length(1);
    const bought = await f.contentAccess.read.purchaseExpiry([contentId, f.attacker.address]);
    expect(bought).to.equal(BigInt(await time.latest()) + DAY, "one period only");
    expect(await f.evil.read.balanceOf([f.contentAccess.address])).to.equal(100n);
    expect(await sumOwed(f, f.evil.address, [addr(f.treasury), addr(f.creator)])).to.equal(100n);
  });

  it("a contract payee cannot re-enter withdraw on native receive", async () => {
    const f = await loadFixture(attackFixture);
    const registered = await asAttacker(f, f.contentAccess.address, f.contentAccess.abi, "registerContent", [
      `0x${"ee".repeat(32)}`,
      "0x01",
      1,
      { minCoinBalance: 0n, minPasses: 0n, inSubscription: false, paymentToken: NATIVE, price: DEPOSIT, duration: 0 },
      [],
    ]);
    const [event] = await eventsIn(registered, f.contentAccess, "ContentRegistered");
    const contentId = (event as unknown as { args: { contentId: Hex } }).args.contentId;
    for (let i = 0; i < 2; i++) {
      await f.contentAccess.write.purchaseAccess([contentId, 1], { account: f.fan.account, value: DEPOSIT });
    }
    const owed = await f.contentAccess.read.balanceOf([f.attacker.address, NATIVE]);
    await arm(f, f.contentAccess.address, f.contentAccess.abi, "withdraw", [NATIVE]);

    const hash = await asAttacker(f, f.contentAccess.address, f.contentAccess.abi, "withdraw", [NATIVE]);

    await expectReentryBlocked(f);
    expect(await eventsIn(hash, f.contentAccess, "Withdrawn")).to.have.length(1);
    expect(await f.publicClient.getBalance({ address: f.attacker.address })).to.equal(owed);
    expect(await f.publicClient.getBalance({ address: f.contentAccess.address })).to.equal(
      await sumOwed(f, NATIVE, [addr(f.treasury)]),
      "only the platform fee is left",
    );
  });

  it("an ERC-721 receiver cannot re-enter CreatorPass.mint past the supply or pay once for two mints", async () => {
    const f = await loadFixture(attackFixture);
    const { pass } = await launch(f);
    const [, , price] = await pass.read.saleInfo();
    // Fund the re-entry so it can only fail on the guard, not for lack of value.
    await f.stranger.sendTransaction({ to: f.attacker.address, value: price });
    await arm(f, pass.address, pass.abi, "mint", [1n], price);

    const hash = await asAttacker(f, pass.address, pass.abi, "mint", [2n], 2n * price);

    await expectReentryBlocked(f);
    expect(await pass.read.totalSupply()).to.equal(2n);
    expect(await pass.read.balanceOf([f.attacker.address])).to.equal(2n);
    const deposits = await eventsIn(hash, f.contentAccess, "PassRevenueDeposited");
    expect(deposits).to.have.length(1);
    expect(await f.publicClient.getBalance({ address: f.attacker.address })).to.equal(price, "re-entry value kept");
    expect(await f.publicClient.getBalance({ address: f.contentAccess.address })).to.equal(2n * price);
    expect(await sumOwed(f, NATIVE, [addr(f.treasury), addr(f.creator)])).to.equal(2n * price);
  });

  it("a fake pass cannot deposit pass revenue", async () => {
    const f = await loadFixture(attackFixture);
    await launch(f);
    const fake = await viem.deployContract("FakePass");
    for (const creator of [addr(f.creator), addr(f.stranger)]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        fake.write.deposit([f.contentAccess.address, creator], { value: parseEther("0.1") }),
        f.contentAccess,
        "NotCreatorPass",
        [fake.address, creator],
      );
    }
    expect(await f.publicClient.getBalance({ address: f.contentAccess.address })).to.equal(0n);
  });

  it("a viewer cannot dodge an off-chain voucher with requestClose + reclaim", async () => {
    const f = await loadFixture(attackFixture);
    const { channelId } = await openNative(f);
    const watched = parseEther("0.3");
    const signature = await f.fan.signTypedData({ account: f.fan.account, ...voucher(f, channelId, watched) });

    await f.channels.write.requestClose([channelId], { account: f.fan.account });
    const { closesAt } = await f.channels.read.getChannel([channelId]);
    await viem.assertions.revertWithCustomError(
      f.channels.write.reclaim([channelId], { account: f.fan.account }),
      f.channels,
      "ChannelStillOpen",
    );
    // Late in the challenge period the creator closes with the voucher: paid, rest back to the viewer.
    await time.increaseTo(closesAt - 60n);
    await f.channels.write.closeChannel([channelId, watched, signature], { account: f.creator.account });
    const owedToCreatorSide = await Promise.all(
      [addr(f.treasury), addr(f.creator)].map((a) => f.channels.read.balanceOf([a, NATIVE])),
    );
    expect(owedToCreatorSide[0] + owedToCreatorSide[1]).to.equal(watched);
    expect(await f.channels.read.balanceOf([addr(f.fan), NATIVE])).to.equal(DEPOSIT - watched);

    await time.increaseTo(closesAt + 1n);
    for (const attempt of [
      f.channels.write.reclaim([channelId], { account: f.fan.account }),
      f.channels.write.redeemVoucher([channelId, DEPOSIT, signature]),
    ]) {
      await viem.assertions.revertWithCustomErrorWithArgs(attempt, f.channels, "ChannelNotOpen", [channelId]);
    }
  });

  it("the high-s twin of a viem-signed voucher is rejected, the canonical one pays", async () => {
    const f = await loadFixture(attackFixture);
    const { channelId } = await openNative(f);
    const amount = parseEther("0.25");
    const signature = await f.fan.signTypedData({ account: f.fan.account, ...voucher(f, channelId, amount) });
    const { r, s, yParity } = parseSignature(signature);
    const highS = (SECP256K1_N - BigInt(s)).toString(16).padStart(64, "0");
    const twin = serializeSignature({ r, s: `0x${highS}`, yParity: yParity === 0 ? 1 : 0 });

    await viem.assertions.revertWithCustomErrorWithArgs(
      f.channels.write.redeemVoucher([channelId, amount, twin]),
      f.channels,
      "ECDSAInvalidSignatureS",
      [`0x${highS}`],
    );
    await f.channels.write.redeemVoucher([channelId, amount, signature]);
    expect((await f.channels.read.getChannel([channelId])).redeemed).to.equal(amount);
  });

  it("a voucher for one PaymentChannels deployment is rejected by another with the same channel id", async () => {
    const f = await loadFixture(attackFixture);
    const contentId = await register(f, "shared");
    const other = await viem.deployContract("PaymentChannels", [addr(f.deployer), f.contentAccess.address]);
    const a = await openNative(f, f.channels, contentId);
    const b = await openNative(f, other as unknown as F["channels"], contentId);
    expect(a.channelId).to.equal(b.channelId);
    const signature = await f.fan.signTypedData({ account: f.fan.account, ...voucher(f, a.channelId, DEPOSIT) });

    await viem.assertions.revertWithCustomError(
      other.write.redeemVoucher([b.channelId, DEPOSIT, signature]),
      other,
      "InvalidSigner",
    );
    await f.channels.write.redeemVoucher([a.channelId, DEPOSIT, signature]);
    expect((await f.channels.read.getChannel([a.channelId])).redeemed).to.equal(DEPOSIT);
    expect((await other.read.getChannel([b.channelId])).redeemed).to.equal(0n);
  });
});

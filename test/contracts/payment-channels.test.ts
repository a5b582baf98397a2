/**
 * PaymentChannels: every external function and every revert path, against the whole system
 * deployed by the shared fixture (ContentAccess supplies splits and the token allow-list).
 */
import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-viem-assertions/predicates";
import {
  encodeAbiParameters,
  hashTypedData,
  keccak256,
  maxUint256,
  parseEther,
  parseEventLogs,
  toHex,
  type Address,
  type Hash,
  type Hex,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { DAY, NATIVE, addr, deployFixture, networkHelpers, register, viem } from "./fixture.ts";
import { voucherTypedData } from "../../lib/chain/voucher.ts";

const { time, loadFixture } = networkHelpers;

const RATE = parseEther("0.001"); // native per minute
const DEPOSIT = parseEther("1");
const STABLE_RATE = 10_000n; // 0.01 mUSDC per minute
const STABLE_DEPOSIT = 5_000_000n; // 5 mUSDC
const FEE_BPS = 300n;
const COLLAB1_BPS = 2_000;
const COLLAB2_BPS = 1_000;
const MAX_UINT96 = 2n ** 96n - 1n;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const Status = { None: 0, Open: 1, Closing: 2, Closed: 3 } as const;
const Role = { Platform: 0, Creator: 1, Collaborator: 2, Refund: 3 } as const;

/** Deterministic session keys (local accounts, like a browser-held key). */
const sessionKey = privateKeyToAccount(keccak256(toHex("streamvault session key 1")));
const sessionKey2 = privateKeyToAccount(keccak256(toHex("streamvault session key 2")));

async function channelsFixture() {
  const f = await deployFixture();
  const contentId = await register(f, "stream", {
    collaborators: [
      { account: addr(f.collab1), shareBps: COLLAB1_BPS },
      { account: addr(f.collab2), shareBps: COLLAB2_BPS },
    ],
  });
  const soloContentId = await register(f, "solo");
  for (const w of [f.fan, f.fan2]) {
    await f.stable.write.mint([addr(w), 10n ** 12n]);
    await f.stable.write.approve([f.channels.address, maxUint256], { account: w.account });
  }
  // Both items are offered per minute in native currency at RATE.
  for (const id of [contentId, soloContentId]) {
    await f.channels.write.setStreamPrice([id, NATIVE, RATE], { account: f.creator.account });
  }
  const chainId = await f.publicClient.getChainId();
  return { ...f, contentId, soloContentId, chainId };
}

type F = Awaited<ReturnType<typeof channelsFixture>>;
type Wallet = F["fan"];
type SessionKeyParams = { key: Address; spendingCap: bigint; expiresAt: bigint };

const noSessionKey: SessionKeyParams = { key: NATIVE, spendingCap: 0n, expiresAt: 0n };

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** The creator (of both fixture items) sets the item's stream price; the default rate is the token's. */
async function offer(f: F, contentId: Hex, token: Address, rate = token === NATIVE ? RATE : STABLE_RATE) {
  return f.channels.write.setStreamPrice([contentId, token, rate], { account: f.creator.account });
}

/**
 * Opens a channel. Unless `offer` is false, first makes the item's stream price use `token`
 * (at the token's default rate) when it does not already.
 */
async function open(
  f: F,
  opts: {
    offer?: boolean;
    viewer?: Wallet;
    token?: Address;
    deposit?: bigint;
    rate?: bigint;
    expiresAt?: bigint;
    contentId?: Hex;
    sessionKey?: SessionKeyParams;
  } = {},
) {
  const viewer = opts.viewer ?? f.fan;
  const token = opts.token ?? NATIVE;
  const deposit = opts.deposit ?? (token === NATIVE ? DEPOSIT : STABLE_DEPOSIT);
  const expiresAt = opts.expiresAt ?? (await now()) + 7n * DAY;
  const contentId = opts.contentId ?? f.contentId;
  if (opts.offer !== false) {
    const [priceToken, price] = await f.channels.read.streamPrice([contentId]);
    if (price === 0n || priceToken.toLowerCase() !== token.toLowerCase()) await offer(f, contentId, token);
  }
  const params = {
    contentId,
    token,
    deposit,
    ratePerMinute: opts.rate ?? (token === NATIVE ? RATE : STABLE_RATE),
    expiresAt,
    sessionKey: opts.sessionKey ?? noSessionKey,
  };
  const hash = await f.channels.write.openChannel([params], {
    account: viewer.account,
    value: token === NATIVE ? deposit : 0n,
  });
  const id = await f.channels.read.channelCount();
  return { id, hash, params, expiresAt, deposit, token };
}

/** The voucher under the fixture's chain and (unless given) its PaymentChannels. */
function voucherOf(f: F, channelId: bigint, cumulativeAmount: bigint, verifyingContract: Address = f.channels.address) {
  return voucherTypedData(f.chainId, verifyingContract, channelId, cumulativeAmount);
}

async function sign(
  f: F,
  signer: Wallet | PrivateKeyAccount,
  channelId: bigint,
  cumulativeAmount: bigint,
  verifyingContract?: Address,
): Promise<Hex> {
  const td = voucherOf(f, channelId, cumulativeAmount, verifyingContract);
  if ("account" in signer) return signer.signTypedData({ account: signer.account, ...td });
  return signer.signTypedData(td);
}

/** Expected split of `amount`: 3% platform, then collaborators' bps of the rest, creator remainder. */
function split(amount: bigint, collaboratorBps: number[] = [COLLAB1_BPS, COLLAB2_BPS]) {
  const fee = (amount * FEE_BPS) / 10_000n;
  const net = amount - fee;
  const shares = collaboratorBps.map((bps) => (net * BigInt(bps)) / 10_000n);
  const creator = net - shares.reduce((a, b) => a + b, 0n);
  return { fee, shares, creator };
}

/** Credited events emitted by PaymentChannels in `hash`, in order. */
async function credited(f: F, hash: Hash) {
  const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
  const own = receipt.logs.filter((l) => l.address.toLowerCase() === f.channels.address.toLowerCase());
  return parseEventLogs({ abi: f.channels.abi, eventName: "Credited", logs: own }).map((l) => l.args);
}

function expectedCredits(f: F, amount: bigint, token: Address, contentId: Hex = f.contentId) {
  const s = split(amount);
  return [
    { payee: addr(f.treasury), token, contentId, role: Role.Platform, amount: s.fee },
    { payee: addr(f.collab1), token, contentId, role: Role.Collaborator, amount: s.shares[0] },
    { payee: addr(f.collab2), token, contentId, role: Role.Collaborator, amount: s.shares[1] },
    { payee: addr(f.creator), token, contentId, role: Role.Creator, amount: s.creator },
  ];
}

async function ledger(f: F, token: Address = NATIVE) {
  const read = (w: Wallet) => f.channels.read.balanceOf([addr(w), token]);
  return {
    treasury: await read(f.treasury),
    creator: await read(f.creator),
    collab1: await read(f.collab1),
    collab2: await read(f.collab2),
    fan: await read(f.fan),
    stranger: await read(f.stranger),
  };
}

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

  describe("openChannel", () => {
    it("opens a native channel without a session key and escrows msg.value", async () => {
      const f = await loadFixture(channelsFixture);
      const expiresAt = (await now()) + 7n * DAY;
      const params = {
        contentId: f.contentId,
        token: NATIVE,
        deposit: DEPOSIT,
        ratePerMinute: RATE,
        expiresAt,
        sessionKey: noSessionKey,
      };
      const tx = f.channels.write.openChannel([params], { account: f.fan.account, value: DEPOSIT });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.fan), amount: -DEPOSIT },
        { address: f.channels.address, amount: DEPOSIT },
      ]);
      await viem.assertions.emitWithArgs(tx, f.channels, "ChannelOpened", [
        1n,
        addr(f.fan),
        addr(f.creator),
        f.contentId,
        NATIVE,
        DEPOSIT,
        RATE,
        expiresAt,
      ]);
      expect(await f.channels.read.channelCount()).to.equal(1n);
      // (The agreed rate lives in ChannelOpened; whether storage also keeps it is an implementation detail.)
      expect(await f.channels.read.getChannel([1n])).to.deep.include({
        viewer: addr(f.fan),
        closesAt: expiresAt,
        status: Status.Open,
        token: NATIVE,
        deposit: DEPOSIT,
        redeemed: 0n,
        contentId: f.contentId,
      });
      expect(await f.channels.read.sessionKeyOf([1n])).to.deep.equal(noSessionKey);
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash: await tx });
      const authorized = parseEventLogs({ abi: f.channels.abi, eventName: "SessionKeyAuthorized", logs: receipt.logs });
      expect(authorized).to.have.length(0);
    });

    it("opens a native channel with a session key", async () => {
      const f = await loadFixture(channelsFixture);
      const skExpiry = (await now()) + 2n * DAY;
      const sk = { key: sessionKey.address, spendingCap: 120n * RATE, expiresAt: skExpiry };
      const { id, hash } = await open(f, { sessionKey: sk });
      await viem.assertions.emitWithArgs(hash, f.channels, "SessionKeyAuthorized", [
        id,
        sessionKey.address,
        120n * RATE,
        skExpiry,
      ]);
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(sk);
    });

    it("opens an ERC-20 (mock stablecoin) channel by transferFrom", async () => {
      const f = await loadFixture(channelsFixture);
      const fanBefore = await f.stable.read.balanceOf([addr(f.fan)]);
      const { id, hash, expiresAt } = await open(f, { token: f.stable.address });
      await viem.assertions.emitWithArgs(hash, f.channels, "ChannelOpened", [
        id,
        addr(f.fan),
        addr(f.creator),
        f.contentId,
        f.stable.address,
        STABLE_DEPOSIT,
        STABLE_RATE,
        expiresAt,
      ]);
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(fanBefore - STABLE_DEPOSIT);
      expect(await f.stable.read.balanceOf([f.channels.address])).to.equal(STABLE_DEPOSIT);
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.token).to.equal(f.stable.address);
      expect(ch.deposit).to.equal(STABLE_DEPOSIT);
      expect(ch.status).to.equal(Status.Open);
    });

    it("opens an ERC-20 channel with a session key", async () => {
      const f = await loadFixture(channelsFixture);
      const sk = { key: sessionKey.address, spendingCap: STABLE_DEPOSIT, expiresAt: (await now()) + DAY };
      const { id, hash } = await open(f, { token: f.stable.address, sessionKey: sk });
      await viem.assertions.emitWithArgs(hash, f.channels, "SessionKeyAuthorized", [
        id,
        sk.key,
        sk.spendingCap,
        sk.expiresAt,
      ]);
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(sk);
      const sig = await sign(f, sessionKey, id, STABLE_RATE);
      await f.channels.write.redeemVoucher([id, STABLE_RATE, sig], { account: f.creator.account });
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(STABLE_RATE);
    });

    it("numbers channels consecutively per contract", async () => {
      const f = await loadFixture(channelsFixture);
      const a = await open(f);
      const b = await open(f, { viewer: f.fan2, contentId: f.soloContentId });
      expect(a.id).to.equal(1n);
      expect(b.id).to.equal(2n);
      expect((await f.channels.read.getChannel([2n])).viewer).to.equal(addr(f.fan2));
      expect((await f.channels.read.getChannel([2n])).contentId).to.equal(f.soloContentId);
    });

    it("reverts ZeroDeposit", async () => {
      const f = await loadFixture(channelsFixture);
      await viem.assertions.revertWithCustomError(open(f, { deposit: 0n }), f.channels, "ZeroDeposit");
    });

    it("reverts ExpiryTooSoon below now + CHALLENGE_PERIOD, accepts exactly that", async () => {
      const f = await loadFixture(channelsFixture);
      const t = (await now()) + 100n;
      await time.setNextBlockTimestamp(t);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { expiresAt: t + DAY - 1n }),
        f.channels,
        "ExpiryTooSoon",
        [t + DAY - 1n, t + DAY],
      );
      const t2 = (await now()) + 100n;
      await time.setNextBlockTimestamp(t2);
      const { id } = await open(f, { expiresAt: t2 + DAY });
      expect((await f.channels.read.getChannel([id])).closesAt).to.equal(t2 + DAY);
    });

    it("reverts TokenNotAccepted for a token ContentAccess does not allow", async () => {
      const f = await loadFixture(channelsFixture);
      const notAllowed = addr(f.stranger);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { token: notAllowed, offer: false }),
        f.channels,
        "TokenNotAccepted",
        [notAllowed],
      );
      // A token disallowed after the creator priced the item in it is refused too.
      await offer(f, f.contentId, f.stable.address);
      await f.contentAccess.write.setPaymentToken([f.stable.address, false]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { token: f.stable.address, offer: false }),
        f.channels,
        "TokenNotAccepted",
        [f.stable.address],
      );
    });

    it("reverts for unknown content (UnknownContent from ContentAccess)", async () => {
      const f = await loadFixture(channelsFixture);
      const unknown = keccak256(toHex("never registered"));
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { contentId: unknown, offer: false }),
        f.contentAccess,
        "UnknownContent",
        [unknown],
      );
      expect(await f.channels.read.channelCount()).to.equal(0n);
    });

    it("reverts WrongPayment when msg.value differs from a native deposit", async () => {
      const f = await loadFixture(channelsFixture);
      const params = {
        contentId: f.contentId,
        token: NATIVE,
        deposit: DEPOSIT,
        ratePerMinute: RATE,
        expiresAt: (await now()) + 7n * DAY,
        sessionKey: noSessionKey,
      };
      for (const value of [0n, DEPOSIT - 1n, DEPOSIT + 1n]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.openChannel([params], { account: f.fan.account, value }),
          f.channels,
          "WrongPayment",
          [DEPOSIT, value],
        );
      }
    });

    it("reverts WrongPayment when native value is sent with an ERC-20 deposit", async () => {
      const f = await loadFixture(channelsFixture);
      await offer(f, f.contentId, f.stable.address);
      const params = {
        contentId: f.contentId,
        token: f.stable.address,
        deposit: STABLE_DEPOSIT,
        ratePerMinute: STABLE_RATE,
        expiresAt: (await now()) + 7n * DAY,
        sessionKey: noSessionKey,
      };
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.openChannel([params], { account: f.fan.account, value: 1n }),
        f.channels,
        "WrongPayment",
        [0n, 1n],
      );
    });

    it("reverts when the ERC-20 allowance is missing", async () => {
      const f = await loadFixture(channelsFixture);
      await f.stable.write.mint([addr(f.stranger), STABLE_DEPOSIT]);
      await viem.assertions.revertWithCustomError(
        open(f, { viewer: f.stranger, token: f.stable.address }),
        f.stable,
        "ERC20InsufficientAllowance",
      );
    });

    it("reverts EnforcedPause while paused", async () => {
      const f = await loadFixture(channelsFixture);
      await offer(f, f.soloContentId, f.stable.address);
      await f.channels.write.pause();
      await viem.assertions.revertWithCustomError(open(f, { offer: false }), f.channels, "EnforcedPause");
      await viem.assertions.revertWithCustomError(
        open(f, { contentId: f.soloContentId, token: f.stable.address, offer: false }),
        f.channels,
        "EnforcedPause",
      );
    });

    it("reverts NotStreamable when the creator never priced the item per minute, or stopped (rate 0)", async () => {
      const f = await loadFixture(channelsFixture);
      const unpriced = await register(f, "not per minute");
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { contentId: unpriced, offer: false }),
        f.channels,
        "NotStreamable",
        [unpriced],
      );
      const { id } = await open(f);
      await offer(f, f.contentId, NATIVE, 0n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { offer: false }),
        f.channels,
        "NotStreamable",
        [f.contentId],
      );
      // A channel opened before keeps working.
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, f.fan, id, RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(RATE);
    });

    it("reverts WrongStreamToken when the channel's token is not the price's", async () => {
      const f = await loadFixture(channelsFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { token: f.stable.address, offer: false }),
        f.channels,
        "WrongStreamToken",
        [f.contentId, NATIVE, f.stable.address],
      );
      await offer(f, f.contentId, f.stable.address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { offer: false }),
        f.channels,
        "WrongStreamToken",
        [f.contentId, f.stable.address, NATIVE],
      );
    });

    it("reverts RateBelowPrice below the creator's rate; accepts the rate and above", async () => {
      const f = await loadFixture(channelsFixture);
      for (const rate of [0n, 1n, RATE - 1n]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          open(f, { rate, offer: false }),
          f.channels,
          "RateBelowPrice",
          [f.contentId, RATE, rate],
        );
      }
      expect(await f.channels.read.channelCount()).to.equal(0n);
      for (const rate of [RATE, RATE + 1n, 2n * RATE]) {
        const { id, hash, expiresAt } = await open(f, { rate, offer: false });
        await viem.assertions.emitWithArgs(hash, f.channels, "ChannelOpened", [
          id,
          addr(f.fan),
          addr(f.creator),
          f.contentId,
          NATIVE,
          DEPOSIT,
          rate,
          expiresAt,
        ]);
      }
      // A creator raising the price changes later channels only.
      await offer(f, f.contentId, NATIVE, 3n * RATE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        open(f, { rate: 2n * RATE, offer: false }),
        f.channels,
        "RateBelowPrice",
        [f.contentId, 3n * RATE, 2n * RATE],
      );
      await f.channels.write.redeemVoucher([1n, RATE, await sign(f, f.fan, 1n, RATE)]);
      expect((await f.channels.read.getChannel([1n])).redeemed).to.equal(RATE);
    });
  });

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

  describe("authorizeSessionKey", () => {
    it("authorises a key after opening; the key can then sign vouchers", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sk = { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY };
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey, id, RATE)]),
        f.channels,
        "InvalidSigner",
        [sessionKey.address],
      );
      await viem.assertions.emitWithArgs(
        f.channels.write.authorizeSessionKey([id, sk], { account: f.fan.account }),
        f.channels,
        "SessionKeyAuthorized",
        [id, sk.key, sk.spendingCap, sk.expiresAt],
      );
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(sk);
      await f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey, id, RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(RATE);
    });

    it("refuses to replace or revoke a live key, so signed vouchers stay redeemable", async () => {
      // Otherwise a viewer could void the vouchers their key signed for minutes already watched.
      const f = await loadFixture(channelsFixture);
      const expiresAt = (await now()) + DAY;
      const { id } = await open(f, { sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt } });
      const signed = await sign(f, sessionKey, id, 2n * RATE);
      for (const replacement of [
        { key: sessionKey2.address, spendingCap: DEPOSIT / 2n, expiresAt: expiresAt + DAY },
        noSessionKey,
        { key: sessionKey.address, spendingCap: 1n, expiresAt },
      ]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.authorizeSessionKey([id, replacement], { account: f.fan.account }),
          f.channels,
          "SessionKeyActive",
          [sessionKey.address, expiresAt],
        );
      }
      // Still live one challenge period after its expiry: the creator's grace to redeem.
      await time.setNextBlockTimestamp(expiresAt + DAY);
      await viem.assertions.revertWithCustomError(
        f.channels.write.authorizeSessionKey([id, noSessionKey], { account: f.fan.account }),
        f.channels,
        "SessionKeyActive",
      );
      await f.channels.write.redeemVoucher([id, 2n * RATE, signed]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(2n * RATE);
    });

    it("replaces a dead key (past expiry + challenge period): the old key stops, the new one works", async () => {
      const f = await loadFixture(channelsFixture);
      const expiresAt = (await now()) + 3_600n;
      const { id } = await open(f, {
        expiresAt: (await now()) + 10n * DAY,
        sessionKey: { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt },
      });
      await time.setNextBlockTimestamp(expiresAt + DAY + 1n);
      const replacement = { key: sessionKey2.address, spendingCap: DEPOSIT / 2n, expiresAt: expiresAt + 3n * DAY };
      await viem.assertions.emitWithArgs(
        f.channels.write.authorizeSessionKey([id, replacement], { account: f.fan.account }),
        f.channels,
        "SessionKeyAuthorized",
        [id, sessionKey2.address, DEPOSIT / 2n, expiresAt + 3n * DAY],
      );
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(replacement);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.redeemVoucher([id, RATE, await sign(f, sessionKey, id, RATE)]),
        f.channels,
        "InvalidSigner",
        [sessionKey.address],
      );
      await f.channels.write.redeemVoucher([id, 2n * RATE, await sign(f, sessionKey2, id, 2n * RATE)]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(2n * RATE);
    });

    it("reverts NotViewer for anyone but the viewer (creator included)", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sk = { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY };
      for (const w of [f.stranger, f.creator]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.authorizeSessionKey([id, sk], { account: w.account }),
          f.channels,
          "NotViewer",
          [id, addr(w)],
        );
      }
      expect(await f.channels.read.sessionKeyOf([id])).to.deep.equal(noSessionKey);
    });

    it("works while a close is pending, reverts ChannelNotOpen once closed and UnknownChannel for no channel", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      const sk = { key: sessionKey.address, spendingCap: DEPOSIT, expiresAt: (await now()) + DAY };
      await f.channels.write.requestClose([id], { account: f.fan.account });
      await f.channels.write.authorizeSessionKey([id, sk], { account: f.fan.account });
      expect((await f.channels.read.sessionKeyOf([id])).key).to.equal(sessionKey.address);
      await f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.authorizeSessionKey([id, sk], { account: f.fan.account }),
        f.channels,
        "ChannelNotOpen",
        [id],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.authorizeSessionKey([99n, sk], { account: f.fan.account }),
        f.channels,
        "UnknownChannel",
        [99n],
      );
    });
  });

  describe("topUp", () => {
    it("adds a native deposit, keeps the expiry with 0", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      const add = parseEther("0.5");
      const tx = f.channels.write.topUp([id, add, 0n], { account: f.fan.account, value: add });
      await viem.assertions.balancesHaveChanged(tx, [
        { address: addr(f.fan), amount: -add },
        { address: f.channels.address, amount: add },
      ]);
      await viem.assertions.emitWithArgs(tx, f.channels, "ChannelToppedUp", [id, add, DEPOSIT + add, expiresAt]);
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.deposit).to.equal(DEPOSIT + add);
      expect(ch.closesAt).to.equal(expiresAt);
    });

    it("adds an ERC-20 deposit by transferFrom", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f, { token: f.stable.address });
      const before = await f.stable.read.balanceOf([addr(f.fan)]);
      await viem.assertions.emitWithArgs(
        f.channels.write.topUp([id, 1_000_000n, 0n], { account: f.fan.account }),
        f.channels,
        "ChannelToppedUp",
        [id, 1_000_000n, STABLE_DEPOSIT + 1_000_000n, expiresAt],
      );
      expect(await f.stable.read.balanceOf([addr(f.fan)])).to.equal(before - 1_000_000n);
      expect(await f.stable.read.balanceOf([f.channels.address])).to.equal(STABLE_DEPOSIT + 1_000_000n);
      expect((await f.channels.read.getChannel([id])).deposit).to.equal(STABLE_DEPOSIT + 1_000_000n);
    });

    it("extends the expiry (same value allowed), with or without new deposit", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      const later = expiresAt + 3n * DAY;
      await viem.assertions.emitWithArgs(
        f.channels.write.topUp([id, 0n, later], { account: f.fan.account }),
        f.channels,
        "ChannelToppedUp",
        [id, 0n, DEPOSIT, later],
      );
      expect((await f.channels.read.getChannel([id])).closesAt).to.equal(later);
      await f.channels.write.topUp([id, 1n, later], { account: f.fan.account, value: 1n });
      const ch = await f.channels.read.getChannel([id]);
      expect(ch.closesAt).to.equal(later);
      expect(ch.deposit).to.equal(DEPOSIT + 1n);
    });

    it("reverts ExpiryTooSoon for an earlier expiry", async () => {
      const f = await loadFixture(channelsFixture);
      const { id, expiresAt } = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 1n, expiresAt - 1n], { account: f.fan.account, value: 1n }),
        f.channels,
        "ExpiryTooSoon",
        [expiresAt - 1n, expiresAt],
      );
    });

    it("reverts ChannelClosing after requestClose", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.requestClose([id], { account: f.fan.account });
      const closesAt = (await f.channels.read.getChannel([id])).closesAt;
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "ChannelClosing",
        [id, closesAt],
      );
    });

    it("reverts NotViewer for others", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      for (const w of [f.stranger, f.creator]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          f.channels.write.topUp([id, 1n, 0n], { account: w.account, value: 1n }),
          f.channels,
          "NotViewer",
          [id, addr(w)],
        );
      }
    });

    it("reverts DepositTooLarge past uint96", async () => {
      const f = await loadFixture(channelsFixture);
      await f.stable.write.mint([addr(f.fan), MAX_UINT96]);
      const { id } = await open(f, { token: f.stable.address, deposit: MAX_UINT96 - 10n });
      await viem.assertions.revertWithCustomError(
        f.channels.write.topUp([id, 11n, 0n], { account: f.fan.account }),
        f.channels,
        "DepositTooLarge",
      );
      // Exactly up to the maximum is fine.
      await f.channels.write.topUp([id, 10n, 0n], { account: f.fan.account });
      expect((await f.channels.read.getChannel([id])).deposit).to.equal(MAX_UINT96);
      await viem.assertions.revertWithCustomError(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account }),
        f.channels,
        "DepositTooLarge",
      );
    });

    it("reverts WrongPayment for a mismatched msg.value", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 10n, 0n], { account: f.fan.account, value: 9n }),
        f.channels,
        "WrongPayment",
        [10n, 9n],
      );
      const erc = await open(f, { token: f.stable.address });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([erc.id, 10n, 0n], { account: f.fan.account, value: 10n }),
        f.channels,
        "WrongPayment",
        [0n, 10n],
      );
    });

    it("reverts EnforcedPause, ChannelNotOpen and UnknownChannel", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f);
      await f.channels.write.pause();
      await viem.assertions.revertWithCustomError(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "EnforcedPause",
      );
      await f.channels.write.unpause();
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([7n, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "UnknownChannel",
        [7n],
      );
      await f.channels.write.closeChannel([id, 0n, "0x"], { account: f.creator.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.channels.write.topUp([id, 1n, 0n], { account: f.fan.account, value: 1n }),
        f.channels,
        "ChannelNotOpen",
        [id],
      );
    });

    it("lets a voucher that was capped at the deposit redeem the rest after a top-up", async () => {
      const f = await loadFixture(channelsFixture);
      const { id } = await open(f, { deposit: 10n * RATE });
      const sig = await sign(f, f.fan, id, 15n * RATE);
      await f.channels.write.redeemVoucher([id, 15n * RATE, sig]);
      expect((await f.channels.read.getChannel([id])).redeemed).to.equal(10n * RATE);
      await f.channels.write.topUp([id, 10n * RATE, 0n], { account: f.fan.account, value: 10n * RATE });
      await viem.assertions.emitWithArgs(
        f.channels.write.redeemVoucher([id, 15n * RATE, sig]),
        f.channels,
        "VoucherRedeemed",
        [id, addr(f.fan), 15n * RATE, 5n * RATE, 15n * RATE],
      );
    });
  });

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

/**
 * Shared setup of the PaymentChannels suites (one file per feature in this folder): the fixture
 * (two items offered per minute, funded fans), the channel/voucher helpers and the expected
 * revenue splits. Only declarations: mocha loads this file too, so nothing runs at import.
 */
import { keccak256, maxUint256, parseEther, parseEventLogs, toHex, type Address, type Hash, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { DAY, NATIVE, addr, deployFixture, networkHelpers, register } from "../fixture.ts";
import { voucherTypedData } from "@streamvault/lib/chain/voucher.ts";

export const { time, loadFixture } = networkHelpers;

export const RATE = parseEther("0.001"); // native per minute
export const DEPOSIT = parseEther("1");
export const STABLE_RATE = 10_000n; // 0.01 mUSDC per minute
export const STABLE_DEPOSIT = 5_000_000n; // 5 mUSDC
export const FEE_BPS = 300n;
export const COLLAB1_BPS = 2_000;
export const COLLAB2_BPS = 1_000;
export const MAX_UINT96 = 2n ** 96n - 1n;
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export const Status = { None: 0, Open: 1, Closing: 2, Closed: 3 } as const;
export const Role = { Platform: 0, Creator: 1, Collaborator: 2, Refund: 3 } as const;

/** Deterministic session keys (local accounts, like a browser-held key). */
export const sessionKey = privateKeyToAccount(keccak256(toHex("streamvault session key 1")));
export const sessionKey2 = privateKeyToAccount(keccak256(toHex("streamvault session key 2")));

export async function channelsFixture() {
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

export type F = Awaited<ReturnType<typeof channelsFixture>>;
export type Wallet = F["fan"];
export type SessionKeyParams = { key: Address; spendingCap: bigint; expiresAt: bigint };

export const noSessionKey: SessionKeyParams = { key: NATIVE, spendingCap: 0n, expiresAt: 0n };

export async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** The creator (of both fixture items) sets the item's stream price; the default rate is the token's. */
export async function offer(f: F, contentId: Hex, token: Address, rate = token === NATIVE ? RATE : STABLE_RATE) {
  return f.channels.write.setStreamPrice([contentId, token, rate], { account: f.creator.account });
}

/**
 * Opens a channel. Unless `offer` is false, first makes the item's stream price use `token`
 * (at the token's default rate) when it does not already.
 */
export async function open(
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
export function voucherOf(f: F, channelId: bigint, cumulativeAmount: bigint, verifyingContract: Address = f.channels.address) {
  return voucherTypedData(f.chainId, verifyingContract, channelId, cumulativeAmount);
}

export async function sign(
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
export function split(amount: bigint, collaboratorBps: number[] = [COLLAB1_BPS, COLLAB2_BPS]) {
  const fee = (amount * FEE_BPS) / 10_000n;
  const net = amount - fee;
  const shares = collaboratorBps.map((bps) => (net * BigInt(bps)) / 10_000n);
  const creator = net - shares.reduce((a, b) => a + b, 0n);
  return { fee, shares, creator };
}

/** Credited events emitted by PaymentChannels in `hash`, in order. */
export async function credited(f: F, hash: Hash) {
  const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
  const own = receipt.logs.filter((l) => l.address.toLowerCase() === f.channels.address.toLowerCase());
  return parseEventLogs({ abi: f.channels.abi, eventName: "Credited", logs: own }).map((l) => l.args);
}

export function expectedCredits(f: F, amount: bigint, token: Address, contentId: Hex = f.contentId) {
  const s = split(amount);
  return [
    { payee: addr(f.treasury), token, contentId, role: Role.Platform, amount: s.fee },
    { payee: addr(f.collab1), token, contentId, role: Role.Collaborator, amount: s.shares[0] },
    { payee: addr(f.collab2), token, contentId, role: Role.Collaborator, amount: s.shares[1] },
    { payee: addr(f.creator), token, contentId, role: Role.Creator, amount: s.creator },
  ];
}

export async function ledger(f: F, token: Address = NATIVE) {
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

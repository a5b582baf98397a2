"use client";
/**
 * Pay-per-minute: a payment channel opened once by the wallet, with a session key generated here
 * (kept in this tab's memory and sessionStorage) that signs an EIP-712 voucher every minute
 * without wallet prompts. Each voucher goes to the key-release stream route, which checks it
 * against the channel on chain and answers with the content key wrapped to a fresh ephemeral key.
 */
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import { generateEphemeralKeyPair, unwrapContentCryptoKey, type WrappedKey } from "../../../lib/keyrelease/wrap.ts";
import { KeyRequestError } from "./keys";

export interface SessionKey {
  privateKey: Hex;
  address: Address;
}

export function newSessionKey(): SessionKey {
  const privateKey = generatePrivateKey();
  return { privateKey, address: privateKeyToAccount(privateKey).address };
}

export async function signVoucher(params: { sessionKey: SessionKey; chainId: number; contract: Address; channelId: bigint; cumulativeAmount: bigint }): Promise<Hex> {
  return privateKeyToAccount(params.sessionKey.privateKey).signTypedData({
    domain: { name: "StreamVault PaymentChannels", version: "1", chainId: params.chainId, verifyingContract: params.contract },
    types: { Voucher: [{ name: "channelId", type: "uint256" }, { name: "cumulativeAmount", type: "uint256" }] },
    primaryType: "Voucher",
    message: { channelId: params.channelId, cumulativeAmount: params.cumulativeAmount },
  });
}

export interface StreamMinute {
  key: CryptoKey;
  minutesDelivered: number;
  segments: { from: number; to: number };
  nextVoucherMinimum: bigint;
}

/** Pays for the next minute with a voucher and receives the content key. */
export async function streamMinute(params: {
  contentId: Hex;
  wallet: Address;
  channelId: bigint;
  cumulativeAmount: bigint;
  signature: Hex;
}): Promise<StreamMinute> {
  const eph = await generateEphemeralKeyPair();
  const res = await fetch(`/api/keys/${params.contentId}/stream`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      channelId: params.channelId.toString(),
      cumulativeAmount: params.cumulativeAmount.toString(),
      signature: params.signature,
      ephemeralPublicKey: eph.publicKey,
    }),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new KeyRequestError(res.status, (body.message as string) ?? `stream request failed (${res.status})`, body.code as string);
  const key = await unwrapContentCryptoKey({ privateKey: eph.privateKey, wrapped: body.wrapped as WrappedKey, contentId: params.contentId, wallet: (body.wallet as string) ?? params.wallet });
  return {
    key,
    minutesDelivered: Number(body.minutesDelivered ?? 0),
    segments: (body.segments as { from: number; to: number }) ?? { from: 0, to: 0 },
    nextVoucherMinimum: BigInt((body.nextVoucherMinimum as string) ?? "0"),
  };
}

"use client";
/**
 * Pay-per-minute: a payment channel opened once by the wallet, with a session key generated here
 * (kept in this tab's memory) that signs an EIP-712 voucher for each minute window the player
 * needs, without wallet prompts. Each voucher goes to the key-release stream route, which checks it
 * against the channel on chain and answers with that minute's keys (one per variant asked for;
 * never the content key), each wrapped to a fresh ephemeral key under the label "minute/<variant>/<m>".
 */
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import { generateEphemeralKeyPair, unwrapContentCryptoKey, minuteKeyLabel, voucherTypedData, type WrappedKey } from "@streamvault/lib/browser";
import { KeyRequestError } from "./keys.ts";

export interface SessionKey {
  privateKey: Hex;
  address: Address;
}

export function newSessionKey(): SessionKey {
  const privateKey = generatePrivateKey();
  return { privateKey, address: privateKeyToAccount(privateKey).address };
}

export async function signVoucher(params: { sessionKey: SessionKey; chainId: number; contract: Address; channelId: bigint; cumulativeAmount: bigint }): Promise<Hex> {
  return privateKeyToAccount(params.sessionKey.privateKey).signTypedData(
    voucherTypedData(params.chainId, params.contract, params.channelId, params.cumulativeAmount),
  );
}

export interface StreamMinute {
  minute: number;
  /** Variant name -> AES-GCM key (non-extractable) of this minute window. */
  keys: Map<string, CryptoKey>;
  minutesDelivered: number;
  nextVoucherMinimum: bigint;
}

/** Pays for minute window `minute` with a voucher and receives its keys for `variants`. */
export async function streamMinute(params: {
  contentId: Hex;
  wallet: Address;
  channelId: bigint;
  cumulativeAmount: bigint;
  signature: Hex;
  minute: number;
  variants: string[];
  /** The StreamVault server's origin ("" = this page's). */
  apiBase?: string;
}): Promise<StreamMinute> {
  const eph = await generateEphemeralKeyPair();
  const res = await fetch(`${params.apiBase ?? ""}/api/keys/${params.contentId}/stream`, {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      channelId: params.channelId.toString(),
      cumulativeAmount: params.cumulativeAmount.toString(),
      signature: params.signature,
      ephemeralPublicKey: eph.publicKey,
      minute: params.minute,
      variants: params.variants,
    }),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new KeyRequestError(res.status, (body.message as string) ?? `stream request failed (${res.status})`, body.error as string);
  const wallet = (body.wallet as string) ?? params.wallet;
  const keys = new Map<string, CryptoKey>();
  for (const k of (body.keys as { variant: string; minute: number; wrapped: WrappedKey }[] | undefined) ?? []) {
    if (k.minute !== params.minute || !params.variants.includes(k.variant)) continue;
    const label = minuteKeyLabel(k.variant, params.minute);
    keys.set(k.variant, await unwrapContentCryptoKey({ privateKey: eph.privateKey, wrapped: k.wrapped, contentId: params.contentId, wallet, label }));
  }
  return {
    minute: params.minute,
    keys,
    minutesDelivered: Number(body.minutesDelivered ?? 0),
    nextVoucherMinimum: BigInt((body.nextVoucherMinimum as string) ?? "0"),
  };
}

"use client";
/**
 * The studio's reads (streams, backups, previews) need the creator's SIWE session (the key-release
 * session cookie): a 401 signs in once with the connected wallet and retries. Concurrent reads share
 * one sign-in, so the wallet asks for one signature.
 */
import type { Config } from "wagmi";
import { signMessage } from "wagmi/actions";
import type { Address } from "viem";
import { signIn } from "@streamvault/sdk";

let signingIn: Promise<void> | undefined;

export async function studioFetch(wagmi: Config, creator: Address, chainId: number, url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, { credentials: "same-origin", cache: "no-store", ...init });
  if (res.status !== 401) return res;
  signingIn ??= signIn(creator, chainId, (message) => signMessage(wagmi, { message, account: creator })).finally(() => {
    signingIn = undefined;
  });
  await signingIn;
  return fetch(url, { credentials: "same-origin", cache: "no-store", ...init });
}

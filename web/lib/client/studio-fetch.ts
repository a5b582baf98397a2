"use client";
/**
 * The studio's reads (streams, backups, previews) need the creator's SIWE session (the key-release
 * session cookie). Before the first read the page asks who is signed in (GET /api/auth/session) and
 * signs in once if that is not the creator, so reads never provoke a 401; a 401 later (the session
 * expired meanwhile) signs in again and retries once. Concurrent reads share one sign-in, so the
 * wallet asks for one signature.
 */
import type { Config } from "wagmi";
import { signMessage } from "wagmi/actions";
import type { Address } from "viem";
import { signIn } from "@streamvault/sdk";

let signingIn: Promise<void> | undefined;
let signedInAs: string | undefined;

async function sessionWallet(): Promise<string | undefined> {
  const res = await fetch("/api/auth/session", { credentials: "same-origin", cache: "no-store" });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { wallet?: string | null };
  return body.wallet?.toLowerCase() ?? undefined;
}

function ensureSignedIn(wagmi: Config, creator: Address, chainId: number, force: boolean): Promise<void> {
  signingIn ??= (async () => {
    if (!force && signedInAs === creator.toLowerCase()) return;
    if (!force && (await sessionWallet()) === creator.toLowerCase()) {
      signedInAs = creator.toLowerCase();
      return;
    }
    await signIn(creator, chainId, (message) => signMessage(wagmi, { message, account: creator }));
    signedInAs = creator.toLowerCase();
  })().finally(() => {
    signingIn = undefined;
  });
  return signingIn;
}

export async function studioFetch(wagmi: Config, creator: Address, chainId: number, url: string, init?: RequestInit): Promise<Response> {
  await ensureSignedIn(wagmi, creator, chainId, false);
  const res = await fetch(url, { credentials: "same-origin", cache: "no-store", ...init });
  if (res.status !== 401) return res;
  signedInAs = undefined;
  await ensureSignedIn(wagmi, creator, chainId, true);
  return fetch(url, { credentials: "same-origin", cache: "no-store", ...init });
}

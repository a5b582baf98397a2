"use client";
/**
 * Getting a content key: sign in with Ethereum once (session cookie), then ask the key-release
 * route with a fresh ephemeral P-256 public key; the server wraps the key to it (ECDH + HKDF +
 * AES-GCM, lib/keyrelease/wrap.ts) and only this page can unwrap it. The raw key never leaves
 * WebCrypto: it is imported as a non-extractable AES-GCM key.
 */
import { createSiweMessage } from "viem/siwe";
import { getAddress, type Address, type Hex } from "viem";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/browser";
import { ContentKeySource } from "./segment-keys.ts";

export class KeyRequestError extends Error {
  readonly status: number;
  readonly code?: string;
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.name = "KeyRequestError";
    this.status = status;
    this.code = code;
  }
}

type SignMessage = (message: string) => Promise<Hex>;

async function json(res: Response): Promise<Record<string, unknown>> {
  try {
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * SIWE sign-in; the server sets an HttpOnly session cookie. `apiBase` is the StreamVault server's
 * origin ("" = this page's); the message names the domain and URI the server asks for.
 */
export async function signIn(wallet: Address, chainId: number, signMessage: SignMessage, apiBase = ""): Promise<void> {
  const nonceRes = await fetch(`${apiBase}/api/auth/nonce`, { credentials: "include", cache: "no-store" });
  const n = await json(nonceRes);
  if (!nonceRes.ok || typeof n.nonce !== "string") {
    throw new KeyRequestError(nonceRes.status, (n.message as string) ?? (n.error as string) ?? "sign-in is not available");
  }
  const message = createSiweMessage({
    address: getAddress(wallet),
    chainId: typeof n.chainId === "number" ? n.chainId : chainId,
    domain: typeof n.domain === "string" ? n.domain : window.location.host,
    uri: typeof n.uri === "string" ? n.uri : window.location.origin,
    nonce: n.nonce,
    version: "1",
    statement: typeof n.statement === "string" ? n.statement : "Sign in to StreamVault to play the content you unlocked.",
    issuedAt: new Date(),
    expirationTime: new Date(Date.now() + 5 * 60_000),
  });
  const signature = await signMessage(message);
  const res = await fetch(`${apiBase}/api/auth/verify`, {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  if (!res.ok) {
    const b = await json(res);
    throw new KeyRequestError(res.status, (b.message as string) ?? (b.error as string) ?? "sign-in failed", b.code as string);
  }
}

/** This tab's note that `wallet` has a session on the server at `apiBase` (the cookie itself is HttpOnly). */
export function sessionMarker(wallet: Address, apiBase = ""): string {
  return apiBase ? `sv-session:${apiBase}:${wallet.toLowerCase()}` : `sv-session:${wallet.toLowerCase()}`;
}

/** Signs in unless this tab already did for `wallet` on that server. */
export async function ensureSignedIn(wallet: Address, chainId: number, signMessage: SignMessage, apiBase = ""): Promise<void> {
  const marker = sessionMarker(wallet, apiBase);
  if (sessionStorage.getItem(marker) !== null) return;
  await signIn(wallet, chainId, signMessage, apiBase);
  sessionStorage.setItem(marker, String(Date.now()));
}

/** Requests the content key of `contentId` (signs in first when there is no session); segment keys come from it. */
export async function requestContentKey(params: {
  contentId: Hex;
  wallet: Address;
  chainId: number;
  signMessage: SignMessage;
  apiBase?: string;
}): Promise<ContentKeySource> {
  const apiBase = params.apiBase ?? "";
  const attempt = async () => {
    const eph = await generateEphemeralKeyPair();
    const res = await fetch(`${apiBase}/api/keys/${params.contentId}`, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ephemeralPublicKey: eph.publicKey }),
    });
    const body = await json(res);
    if (!res.ok) {
      throw new KeyRequestError(res.status, (body.message as string) ?? (body.error as string) ?? `key request failed (${res.status})`, body.error as string);
    }
    const raw = await unwrapContentKey({
      privateKey: eph.privateKey,
      wrapped: body.wrapped as WrappedKey,
      contentId: params.contentId,
      wallet: (body.wallet as string) ?? params.wallet,
    });
    return ContentKeySource.fromBytes(params.contentId, raw);
  };
  // Sign in first when this tab has no session for the wallet yet (avoids a needless 401).
  const marker = sessionMarker(params.wallet, apiBase);
  if (sessionStorage.getItem(marker) === null) {
    await signIn(params.wallet, params.chainId, params.signMessage, apiBase);
    sessionStorage.setItem(marker, String(Date.now()));
  }
  try {
    return await attempt();
  } catch (error) {
    if (error instanceof KeyRequestError && error.status === 401) {
      // The session expired or the server restarted: sign in again once.
      await signIn(params.wallet, params.chainId, params.signMessage, apiBase);
      sessionStorage.setItem(marker, String(Date.now()));
      return attempt();
    }
    throw error;
  }
}

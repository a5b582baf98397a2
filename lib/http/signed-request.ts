/**
 * Single-use, body-bound signed requests: creator actions that cost the server work or storage
 * (backups, uploads) carry a message the creator's wallet signed,
 *
 *   StreamVault <action>
 *   Wallet: 0x…
 *   Body: sha256:<hex of the exact request body bytes>
 *   Nonce: <32 hex, random, chosen by the client>
 *   Time: <ISO time>
 *
 * in two headers (X-StreamVault-Message: the message base64url-encoded, X-StreamVault-Signature),
 * so the signature is checked before a byte of the body is read. The server consumes the nonce in
 * a shared store (a replay, on any instance, is refused) and accepts the body only if its SHA-256 is
 * the signed one (a captured signature cannot carry another body). Time bounds how long a nonce
 * must be remembered (10 minutes).
 *
 * Browser-safe (viem + Web Crypto): the client builds and signs the same message with it.
 * Server: `verifySignedRequest` (headers, signature, time, creator, nonce), then `readSignedBody`
 * (body streamed with a limit, hash compared), or `bodyMatchesClaim` for a body hashed while streamed.
 */
import { getAddress, isAddress, verifyMessage, type Address, type Hex } from "viem";

export const MESSAGE_HEADER = "x-streamvault-message";
export const SIGNATURE_HEADER = "x-streamvault-signature";
/** How long a signed request is valid (either side of the server's clock). */
export const SIGNED_REQUEST_MAX_AGE_MS = 10 * 60_000;

export interface SignedRequestFields {
  action: string;
  wallet: Address;
  /** SHA-256 of the body bytes, lowercase hex. */
  bodySha256: string;
  nonce: string;
  time: string;
}

/** The message the creator's wallet signs (personal_sign). */
export function signedRequestMessage(fields: SignedRequestFields): string {
  return `StreamVault ${fields.action}\nWallet: ${fields.wallet}\nBody: sha256:${fields.bodySha256}\nNonce: ${fields.nonce}\nTime: ${fields.time}`;
}

export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = await crypto.subtle.digest("SHA-256", data as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function newNonce(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64UrlEncode(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64UrlDecode(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) return undefined;
  try {
    const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/**
 * Client side: signs `body` for `action` with `sign` (e.g. wagmi's signMessageAsync) and returns the
 * headers to send with exactly those bytes.
 */
export async function signRequest(
  action: string,
  wallet: Address,
  body: Uint8Array | string,
  sign: (args: { message: string }) => Promise<Hex>,
  now: () => number = Date.now,
): Promise<Record<string, string>> {
  const message = signedRequestMessage({ action, wallet: getAddress(wallet), bodySha256: await sha256Hex(body), nonce: newNonce(), time: new Date(now()).toISOString() });
  const signature = await sign({ message });
  return { [MESSAGE_HEADER]: base64UrlEncode(message), [SIGNATURE_HEADER]: signature };
}

/** Where consumed nonces are kept; `consume` is true only for the first use of a nonce (atomic, shared by every instance). */
export interface NonceStore {
  consume(nonce: string, wallet: Address, action: string, expiresAt: Date): Promise<boolean>;
}

/** A refused signed request: HTTP status, machine code, and what to do. */
export interface SignedRequestRefusal {
  ok: false;
  status: 400 | 401 | 403 | 409;
  code: string;
  message: string;
}

export interface SignedRequestClaim extends SignedRequestFields {
  ok: true;
}

export interface VerifySignedRequestOptions {
  action: string;
  /** The wallet the request acts for (from the path); the message must name it. */
  creator: Address;
  nonces: NonceStore;
  /** Signature check; default viem's verifyMessage (EOA). Pass a public client's verifyMessage for ERC-1271/6492 wallets. */
  verify?: (args: { address: Address; message: string; signature: Hex }) => Promise<boolean>;
  /** Extra gate after the signature (e.g. "has launched as a creator"): a sentence saying what to do, or null. */
  authorize?: (wallet: Address) => Promise<string | null>;
  now?: () => number;
}

const MESSAGE = /^StreamVault ([a-z-]+)\nWallet: (0x[0-9a-fA-F]{40})\nBody: sha256:([0-9a-f]{64})\nNonce: ([0-9a-f]{32})\nTime: (\S+)$/;

/** Checks a signed request's headers (never its body): message shape, wallet, time, signature, then consumes the nonce. */
export async function verifySignedRequest(headers: Headers, options: VerifySignedRequestOptions): Promise<SignedRequestClaim | SignedRequestRefusal> {
  const { action } = options;
  const refuse = (status: SignedRequestRefusal["status"], code: string, message: string): SignedRequestRefusal => ({ ok: false, status, code, message });
  const encoded = headers.get(MESSAGE_HEADER);
  const signature = headers.get(SIGNATURE_HEADER);
  if (encoded === null || signature === null) {
    return refuse(401, "unsigned", `sign the ${action} request with your wallet: send the ${MESSAGE_HEADER} and ${SIGNATURE_HEADER} headers`);
  }
  const message = encoded.length <= 1024 ? base64UrlDecode(encoded) : undefined;
  const m = message === undefined ? null : MESSAGE.exec(message);
  if (message === undefined || m === null || !/^0x[0-9a-fA-F]{2,}$/.test(signature)) {
    return refuse(400, "malformed_signed_request", `the signed ${action} request is malformed: sign "StreamVault ${action}" with Wallet, Body (sha256 of the body), Nonce and Time lines`);
  }
  const [, signedAction, wallet, bodySha256, nonce, time] = m as unknown as [string, string, Address, string, string, string];
  if (signedAction !== action) return refuse(403, "wrong_action", `the signature is for "${signedAction}", not "${action}": sign a ${action} request`);
  if (!isAddress(options.creator) || getAddress(wallet) !== getAddress(options.creator)) {
    return refuse(403, "wrong_wallet", `the signed ${action} request names ${wallet}, not ${options.creator}`);
  }
  const now = (options.now ?? Date.now)();
  const at = Date.parse(time);
  if (!Number.isFinite(at) || Math.abs(now - at) > SIGNED_REQUEST_MAX_AGE_MS) return refuse(401, "expired", `the signed ${action} request is too old (or its clock is off): sign again`);
  const verify = options.verify ?? ((args) => verifyMessage(args));
  const valid = await verify({ address: getAddress(wallet), message, signature: signature as Hex }).catch(() => false);
  if (!valid) return refuse(401, "bad_signature", `the ${action} signature does not match the wallet ${wallet}`);
  if (options.authorize) {
    const denied = await options.authorize(getAddress(wallet));
    if (denied !== null) return refuse(403, "not_authorized", denied);
  }
  // Remembered until the request could no longer pass the time check anyway.
  const fresh = await options.nonces.consume(nonce, getAddress(wallet), action, new Date(at + SIGNED_REQUEST_MAX_AGE_MS));
  if (!fresh) return refuse(409, "replayed", `this signed ${action} request was already used: sign a new one for each request`);
  return { ok: true, action, wallet: getAddress(wallet), bodySha256, nonce, time };
}

/** Whether body bytes (or their SHA-256 hex, computed while streaming) are the ones signed. */
export async function bodyMatchesClaim(claim: SignedRequestClaim, body: Uint8Array | { sha256Hex: string }): Promise<boolean> {
  const digest = body instanceof Uint8Array ? await sha256Hex(body) : body.sha256Hex.toLowerCase();
  return digest === claim.bodySha256;
}

/** The refusal for a body that is not the signed one. */
export function bodyMismatch(claim: SignedRequestClaim): SignedRequestRefusal {
  return { ok: false, status: 400, code: "body_mismatch", message: `the request body is not the one signed for this ${claim.action}: sign the exact bytes you send` };
}

/** Turns a refusal into the JSON answer (with the sentence under both `error` and `message`). */
export function refusalResponse(refusal: SignedRequestRefusal): Response {
  return Response.json({ error: refusal.message, code: refusal.code, message: refusal.message }, { status: refusal.status, headers: { "cache-control": "no-store" } });
}

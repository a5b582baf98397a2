/**
 * The text of a single-use, body-bound signed request (see index.ts): building and parsing it.
 * No Node imports, so the browser builds the very message the server parses.
 */
import { getAddress, type Address, type Hex } from "viem";

/** How long a signed request is valid (and how long its nonces are remembered). */
export const SIGNED_REQUEST_MAX_AGE_MS = 10 * 60_000;

/** The headers a signed request travels in (the message base64-encoded: headers cannot hold newlines). */
export const SIGNED_REQUEST_HEADER = "x-streamvault-request";
export const SIGNATURE_HEADER = "x-streamvault-signature";

export interface SignedBody {
  size: number;
  /** lower-case hex SHA-256 of the body */
  sha256: string;
}

export interface SignedRequestFields {
  action: string;
  wallet: Address;
  nonce: Hex;
  time: string;
  bodies: SignedBody[];
}

/** A fresh random nonce for a signed request (WebCrypto: the same in browsers and Node). */
export function newNonce(): Hex {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The exact text the wallet signs. */
export function signedRequestMessage(fields: SignedRequestFields): string {
  return [
    `StreamVault ${fields.action}`,
    `Wallet: ${getAddress(fields.wallet)}`,
    `Nonce: ${fields.nonce}`,
    `Time: ${fields.time}`,
    ...fields.bodies.map((b) => `Body: ${b.size} ${b.sha256.toLowerCase()}`),
  ].join("\n");
}

/** The message's fields, or why it is not a signed request of that form. */
export function parseSignedRequestMessage(message: string): SignedRequestFields | string {
  const lines = message.replace(/\r\n/g, "\n").split("\n");
  const head = /^StreamVault ([a-z][a-z-]*)$/.exec(lines[0] ?? "");
  const wallet = /^Wallet: (0x[0-9a-fA-F]{40})$/.exec(lines[1] ?? "");
  const nonce = /^Nonce: (0x[0-9a-f]{32})$/.exec(lines[2] ?? "");
  const time = /^Time: (\S+)$/.exec(lines[3] ?? "");
  if (!head || !wallet || !nonce || !time) return "the signed request is not of the form `StreamVault <action>`, Wallet, Nonce, Time, Body lines: sign it again with this app";
  const bodies: SignedBody[] = [];
  for (const line of lines.slice(4)) {
    const m = /^Body: (\d{1,16}) ([0-9a-f]{64})$/.exec(line);
    if (!m) return `the signed request has a malformed line "${line.slice(0, 80)}"`;
    bodies.push({ size: Number(m[1]), sha256: m[2]! });
  }
  return { action: head[1]!, wallet: getAddress(wallet[1]!), nonce: nonce[1] as Hex, time: time[1]!, bodies };
}

/** The two headers a signed request travels in (the message base64: headers cannot hold newlines; it is ASCII). */
export function signedRequestHeaders(message: string, signature: string): Record<string, string> {
  return { [SIGNED_REQUEST_HEADER]: btoa(message), [SIGNATURE_HEADER]: signature };
}

/** Lower-case hex SHA-256 (WebCrypto: browsers and Node alike). */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Client side, for an action with one small body (a backup request): signs `body` for `action` with
 * `sign` (e.g. wagmi's signMessageAsync) and returns the headers to send with exactly those bytes.
 */
export async function signRequest(action: string, wallet: Address, body: Uint8Array | string, sign: (args: { message: string }) => Promise<Hex>, now: () => number = Date.now): Promise<Record<string, string>> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const message = signedRequestMessage({ action, wallet, nonce: newNonce(), time: new Date(now()).toISOString(), bodies: [{ size: bytes.byteLength, sha256: await sha256Hex(bytes) }] });
  return signedRequestHeaders(message, await sign({ message }));
}

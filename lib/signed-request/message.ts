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

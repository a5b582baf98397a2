/**
 * Sign-In with Ethereum checks. viem parses the message and verifies the signature (EOA, ERC-1271
 * and ERC-6492 through a public client); viem does not check the chain id, URI or issued-at age,
 * so every field is checked here against the server's own configuration first.
 */
import { getAddress, isAddress, type Address } from "viem";
import { parseSiweMessage } from "viem/siwe";

export interface SiweConfig {
  /** RFC 3986 authority the site is served from, e.g. "app.streamvault.xyz" or "127.0.0.1:3000". */
  domain: string;
  /** The exact URI the message must name, e.g. "https://app.streamvault.xyz". */
  uri: string;
  /** Chain the session is for; the message's Chain ID must equal it. */
  chainId: number;
  /** Statement suggested to clients (shown by wallets). */
  statement?: string;
  /** How long an issued nonce may be used, seconds (default 300). */
  nonceTtlSeconds?: number;
  /** Oldest acceptable Issued At, seconds before now (default 300). */
  maxMessageAgeSeconds?: number;
  /** Tolerance for clocks running ahead (Issued At / Not Before in the future), seconds (default 30). */
  clockSkewSeconds?: number;
}

export interface SiweFieldsOk {
  ok: true;
  address: Address;
  nonce: string;
}
export interface SiweFieldsError {
  ok: false;
  code: string;
  message: string;
}

/**
 * Checks every field of a SIWE message except the nonce's server-side state and the signature.
 * Returns what to tell the client when a field is wrong.
 */
export function checkSiweFields(text: string, config: SiweConfig, nowMs: number): SiweFieldsOk | SiweFieldsError {
  const fail = (code: string, message: string): SiweFieldsError => ({ ok: false, code, message });
  const m = parseSiweMessage(text);
  if (!m.address || !m.domain || !m.uri || !m.nonce || m.chainId === undefined || !m.issuedAt || !m.version) {
    return fail("malformed_message", "malformed SIWE message: build it with createSiweMessage from the fields GET /api/auth/nonce returns");
  }
  if (m.version !== "1") return fail("malformed_message", "SIWE version must be 1");
  // EIP-4361 requires the EIP-55 form; viem's isAddress (strict) still passes an all-lowercase address.
  if (!isAddress(m.address, { strict: false })) return fail("malformed_message", "the address is not a 20-byte hex address");
  if (m.address !== getAddress(m.address)) {
    return fail("malformed_message", `address must be EIP-55 checksummed (EIP-4361): write it as ${getAddress(m.address)} (viem getAddress) and sign again`);
  }
  if (m.domain !== config.domain) return fail("wrong_domain", `wrong domain: the message is for "${m.domain}", this site is "${config.domain}"`);
  if (m.scheme !== undefined && `${m.scheme}:` !== new URL(config.uri).protocol) return fail("wrong_scheme", `wrong scheme "${m.scheme}"`);
  if (m.uri !== config.uri) return fail("wrong_uri", `wrong URI: the message names "${m.uri}", sign in from "${config.uri}"`);
  if (m.chainId !== config.chainId) return fail("wrong_chain", `wrong chain id ${m.chainId}: switch your wallet to chain ${config.chainId} and sign again`);
  const skew = (config.clockSkewSeconds ?? 30) * 1000;
  const maxAge = (config.maxMessageAgeSeconds ?? 300) * 1000;
  const issued = m.issuedAt.getTime();
  if (Number.isNaN(issued)) return fail("malformed_message", "Issued At is not an RFC 3339 date-time");
  if (issued > nowMs + skew) return fail("issued_in_future", "Issued At is in the future: check your device clock and sign again");
  if (issued < nowMs - maxAge) return fail("message_too_old", "message expired (issued too long ago): sign in again");
  if (m.expirationTime !== undefined) {
    const exp = m.expirationTime.getTime();
    if (Number.isNaN(exp)) return fail("malformed_message", "Expiration Time is not an RFC 3339 date-time");
    if (exp <= nowMs) return fail("message_expired", "message expired: sign in again");
  }
  if (m.notBefore !== undefined) {
    const nbf = m.notBefore.getTime();
    if (Number.isNaN(nbf)) return fail("malformed_message", "Not Before is not an RFC 3339 date-time");
    if (nbf > nowMs + skew) return fail("not_yet_valid", "message not valid yet (Not Before is in the future)");
  }
  return { ok: true, address: getAddress(m.address), nonce: m.nonce };
}

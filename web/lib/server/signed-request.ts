/**
 * Creator actions that cost the server work or storage (uploads, backups) carry a fresh message
 * signed by the creator's wallet, from a wallet that has launched as a creator on chain.
 *
 * `checkSignedAction` (backups): single-use and bound to the body (lib/http/signed-request.ts): the
 * signature in headers covers the body's SHA-256 and a nonce consumed in the shared database.
 * `checkSignedRequest` (the upload form's fields, "StreamVault <action>\nWallet: 0x…\nTime: <ISO time>",
 * valid for 10 minutes): the older form, until the upload route moves to the headers.
 */
import { createPublicClient, getAddress, http, verifyMessage, type Hex } from "viem";
import { creatorRegistryAbi } from "../../../lib/deployments/abis.ts";
import { RPC_URL, publicConfig } from "./config.ts";
import { verifySignedRequest, refusalResponse, bodyMatchesClaim, bodyMismatch, type SignedRequestClaim } from "../../../lib/http/signed-request.ts";
import { BodyTooLargeError, readBodyBytes } from "../../../lib/http/body-limit.ts";
import { signedRequestNonces } from "./keyrelease.ts";

async function launched(creator: Hex, action: string): Promise<string | null> {
  const client = createPublicClient({ transport: http(RPC_URL) });
  const coin = await client.readContract({ address: publicConfig().contracts.CreatorRegistry, abi: creatorRegistryAbi, functionName: "coinOf", args: [creator] });
  return /^0x0{40}$/.test(coin) ? `launch as a creator before you ${action}` : null;
}

/**
 * A signed creator action whose body is at most `maxBodyBytes`: the headers are checked (signature,
 * time, launched creator, nonce consumed) before the body is read, then the body is read with its
 * limit and must hash to the signed digest. The body bytes, or the refusal to answer.
 */
export async function checkSignedAction(request: Request, action: "backup", creator: Hex, maxBodyBytes: number): Promise<{ claim: SignedRequestClaim; body: Uint8Array } | Response> {
  const client = createPublicClient({ transport: http(RPC_URL) });
  const claim = await verifySignedRequest(request.headers, {
    action,
    creator: getAddress(creator),
    nonces: await signedRequestNonces(),
    verify: (args) => client.verifyMessage(args),
    authorize: (wallet) => launched(wallet, action),
  });
  if (!claim.ok) return refusalResponse(claim);
  let body: Uint8Array;
  try {
    body = await readBodyBytes(request, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return Response.json({ error: error.message, code: "too_large", message: error.message }, { status: 413 });
    throw error;
  }
  if (!(await bodyMatchesClaim(claim, body))) return refusalResponse(bodyMismatch(claim));
  return { claim, body };
}

/** null when the request is signed by `creator` (a launched creator); otherwise why not. */
export async function checkSignedRequest(action: "upload" | "backup", creator: Hex, field: unknown, signature: unknown): Promise<string | null> {
  if (typeof field !== "string" || typeof signature !== "string" || !/^0x[0-9a-fA-F]+$/.test(signature)) return `sign the ${action} request with your wallet`;
  // multipart/form-data turns the newlines of a text field into CRLF: undo that before verifying.
  const message = field.replace(/\r\n/g, "\n");
  const m = new RegExp(`^StreamVault ${action}\\nWallet: (0x[0-9a-fA-F]{40})\\nTime: (\\S+)$`).exec(message);
  if (!m || getAddress(m[1]!) !== getAddress(creator)) return `the signed ${action} request names another wallet`;
  const at = Date.parse(m[2]!);
  if (!Number.isFinite(at) || Math.abs(Date.now() - at) > 10 * 60_000) return `the signed ${action} request is too old: sign again`;
  const valid = await verifyMessage({ address: creator, message, signature: signature as Hex }).catch(() => false);
  if (!valid) return `the ${action} signature does not match the wallet`;
  const client = createPublicClient({ transport: http(RPC_URL) });
  const coin = await client.readContract({ address: publicConfig().contracts.CreatorRegistry, abi: creatorRegistryAbi, functionName: "coinOf", args: [creator] });
  if (/^0x0{40}$/.test(coin)) return `launch as a creator before you ${action}`;
  return null;
}

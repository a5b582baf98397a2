/**
 * Creator actions with a small body that cost the server work or storage (a backup) carry a
 * single-use, body-bound signed request (lib/signed-request, the same as uploads): the headers are
 * checked (form, action, wallet, age, signature, launched creator) before the body is read, the body
 * is read with its limit and must be the one signed, and the (nonce, body) pair is accepted once on
 * any instance (the ledger is in the key-release database).
 */
import { createPublicClient, getAddress, http, type Hex } from "viem";
import { claimSignedBody, sha256Hex, signedRequestFromHeaders, verifySignedRequest, type SignedRequestFields } from "@streamvault/lib/signed-request/index.ts";
import { BodyTooLargeError, readBodyBytes } from "@streamvault/lib/http/body-limit.ts";
import { RPC_URL, contract } from "./config.ts";
import { signedRequestNonces } from "./keyrelease.ts";

const refuse = (status: number, message: string, error = "signed_request_refused") => Response.json({ error, message }, { status, headers: { "cache-control": "no-store" } });

/** Why `creator` may not act yet (not launched on CreatorRegistry), or null. */
export async function launchedRefusal(creator: Hex, action: string): Promise<string | null> {
  const client = createPublicClient({ transport: http(RPC_URL) });
  const coin = await client.readContract({ ...contract("CreatorRegistry"), functionName: "coinOf", args: [creator] });
  return /^0x0{40}$/.test(coin) ? `launch as a creator before you ${action}` : null;
}

/** The signed fields and the body bytes, or the refusal to answer (403 bad/replayed signature, 413 over `maxBodyBytes`, 400 other bytes than signed). */
export async function checkSignedAction(request: Request, action: "backup" | "profile" | "key-escrow", creator: Hex, maxBodyBytes: number): Promise<{ fields: SignedRequestFields; body: Uint8Array } | Response> {
  const { message, signature } = signedRequestFromHeaders(request.headers);
  const verified = await verifySignedRequest({ message, signature, action, wallet: getAddress(creator) });
  if (!verified.ok) return refuse(verified.status, verified.reason);
  const signedBody = verified.fields.bodies[0];
  if (verified.fields.bodies.length !== 1 || !signedBody) return refuse(403, `a signed ${action} request covers exactly one body: sign it again with this app`);
  if (signedBody.size > maxBodyBytes) return refuse(413, `the signed body is ${signedBody.size} bytes; a ${action} request is at most ${maxBodyBytes}`, "too_large");
  const notLaunched = await launchedRefusal(creator, action);
  if (notLaunched) return refuse(403, notLaunched);
  let body: Uint8Array;
  try {
    body = await readBodyBytes(request, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return refuse(413, error.message, "too_large");
    throw error;
  }
  if (body.byteLength !== signedBody.size || (await sha256Hex(body)) !== signedBody.sha256) return refuse(400, `the body is not the one signed for: sign the ${action} request again`, "body_mismatch");
  if (!(await claimSignedBody(await signedRequestNonces(), verified.fields, signedBody))) return refuse(403, `this signed ${action} request was already used: sign it again`, "replayed");
  return { fields: verified.fields, body };
}

/**
 * Creator actions that cost the server work or storage (uploads, backups) carry a fresh message
 * signed by the creator's wallet: "StreamVault <action>\nWallet: 0x…\nTime: <ISO time>", valid for
 * 10 minutes, from a wallet that has launched as a creator on chain.
 */
import { createPublicClient, getAddress, http, verifyMessage, type Hex } from "viem";
import { RPC_URL, contract } from "./config.ts";

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
  const coin = await client.readContract({ ...contract("CreatorRegistry"), functionName: "coinOf", args: [creator] });
  if (/^0x0{40}$/.test(coin)) return `launch as a creator before you ${action}`;
  return null;
}

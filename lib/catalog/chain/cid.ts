/** PieceCID string <-> the binary CID bytes stored on chain. */
import { CID } from "multiformats/cid";
import { bytesToHex, hexToBytes } from "viem";
import type { Hex } from "viem";

/** Binary form of a CID string (what `registerContent` / `anchorBackup` take). */
export function cidToBytes(cid: string): Uint8Array {
  try {
    return CID.parse(cid).bytes;
  } catch (err) {
    throw new Error(`not a CID: ${JSON.stringify(cid)} (${(err as Error).message})`);
  }
}

export function cidToHex(cid: string): Hex {
  return bytesToHex(cidToBytes(cid));
}

/** CID string from the on-chain bytes (hex or raw). */
export function cidFromBytes(bytes: Uint8Array | Hex): string {
  const raw = typeof bytes === "string" ? hexToBytes(bytes) : bytes;
  return CID.decode(raw).toString();
}

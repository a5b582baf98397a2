/**
 * PieceCIDs travel on chain as raw CID bytes (ContentAccess manifests, BackupRegistry events) and
 * everywhere else as their multibase base32 string ("bafk..."). One conversion, by multiformats.
 */
import { base32 } from "multiformats/bases/base32";
import { CID } from "multiformats/cid";
import { bytesToHex, hexToBytes, type Hex } from "viem";

/** CID string -> the bytes stored on chain; throws for a string that is not a CID. */
export function cidToBytes(cid: string): Hex {
  return bytesToHex(CID.parse(cid).bytes);
}

/**
 * On-chain CID bytes -> the CID string ("" for empty bytes). Anyone can put arbitrary bytes on
 * chain, so this does not validate: it is the base32 multibase form of whatever bytes are there,
 * which for a real CIDv1 is exactly its canonical string. Readers (indexer, web) must not crash
 * on garbage; code that fetches a piece validates the CID when it parses it.
 */
export function cidFromBytes(bytes: Hex): string {
  if (bytes === "0x") return "";
  return base32.encode(hexToBytes(bytes));
}

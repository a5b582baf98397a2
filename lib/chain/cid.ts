/**
 * PieceCIDs travel on chain as raw CID bytes (ContentAccess manifests, BackupRegistry events) and
 * everywhere else as their multibase base32 string ("bafk..."). The one conversion (CLI, catalog,
 * key release, indexer, web server and browser), by multiformats; no Node imports.
 */
import { base32 } from "multiformats/bases/base32";
import { CID } from "multiformats/cid";
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { StreamVaultError } from "../errors.ts";

/** CID string -> the 0x-hex bytes `registerContent` / `updateManifest` / `anchorBackup` take; a string that is not a CID is a bad_input error. */
export function cidToBytes(cid: string): Hex {
  let parsed: CID;
  try {
    parsed = CID.parse(cid);
  } catch (err) {
    throw new StreamVaultError("bad_input", `not a CID: ${JSON.stringify(cid)} (${(err as Error).message}): pass the "b..." string form of a PieceCID`, { cause: err });
  }
  return bytesToHex(parsed.bytes);
}

/**
 * On-chain CID bytes (0x-hex or raw) -> the CID string ("" for empty bytes). Anyone can put
 * arbitrary bytes on chain, so this does not validate: it is the base32 multibase form of whatever
 * bytes are there, which for a real CIDv1 is exactly its canonical string. Readers (indexer, web)
 * must not crash on garbage; code that fetches a piece validates the CID when it parses it.
 */
export function cidFromBytes(bytes: Hex | Uint8Array): string {
  const raw = typeof bytes === "string" ? hexToBytes(bytes) : bytes;
  if (raw.length === 0) return "";
  return base32.encode(raw);
}

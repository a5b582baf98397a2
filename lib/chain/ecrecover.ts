/**
 * The address that signed a 32-byte digest, recovered with libsecp256k1 (the `secp256k1`
 * package's N-API prebuild) when it loads: 0.13 ms against viem's pure-JS 3 ms on this machine,
 * and every pay-per-minute key request recovers a voucher signer. Where the native build does not
 * load (another platform, no prebuild), viem's `recoverAddress` gives the same answer.
 */
import { createRequire } from "node:module";
import { getAddress, hexToBytes, keccak256, recoverAddress, type Address, type Hex } from "viem";

interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    // The package's own entry falls back to a JS build silently; its bindings entry is the native one or throws.
    return createRequire(import.meta.url)("secp256k1/bindings.js") as NativeSecp256k1;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Which implementation recovers signers in this process ("libsecp256k1" or "viem"). */
export const ecrecoverImplementation: "libsecp256k1" | "viem" = native ? "libsecp256k1" : "viem";

/**
 * The signer of `hash` (32 bytes) by a 65-byte r || s || v signature (v 27/28 or 0/1), as
 * ecrecover gives it; throws on a signature that recovers no key.
 */
export async function recoverSigner(hash: Hex, signature: Hex): Promise<Address> {
  if (!native) return recoverAddress({ hash, signature });
  const bytes = hexToBytes(signature);
  if (bytes.length !== 65) throw new Error("signature must be 65 bytes (r, s, v)");
  const v = bytes[64]!;
  const recid = v >= 27 ? v - 27 : v;
  if (recid !== 0 && recid !== 1) throw new Error(`signature v must be 27/28 or 0/1, got ${v}`);
  const publicKey = native.ecdsaRecover(bytes.subarray(0, 64), recid, hexToBytes(hash), false);
  return getAddress(`0x${keccak256(publicKey.subarray(1)).slice(-40)}`);
}

/**
 * Content-key escrow to the creator's wallet, on WebCrypto only (no Node imports): the studio runs
 * the same derivation in the browser that `streamvault restore` runs in Node.
 *
 * Scheme "SV-ESC1":
 *   1. The creator's wallet signs fixed EIP-712 typed data (`escrowTypedData`: domain "StreamVault
 *      key escrow", version 1, chain id, verifyingContract = BackupRegistry; message = creator +
 *      purpose). ECDSA signatures of local accounts are deterministic (RFC 6979), so the same wallet
 *      always gets the same signature; `deriveEscrowKeyPair` checks this by signing twice.
 *   2. escrow private key = HKDF-SHA-256(ikm = signature (65 bytes), salt = "", info =
 *      "streamvault/key-escrow/v1/x25519") -> 32 bytes, used as an X25519 private key. Only its
 *      public key is given to the server.
 *   3. sealing (server side, the creator need not be online): ephemeral X25519 key pair,
 *      Z = X25519(ephemeral private, escrow public), KEK = HKDF-SHA-256(ikm = Z, salt = ephemeral
 *      public || escrow public, info), info = "streamvault/key-escrow/v1" 0x00 contentId 0x00 creator
 *      (both 0x-prefixed lowercase hex); sealed = ephemeral public (32) || iv (12) ||
 *      AES-256-GCM(KEK, iv, aad = info, content key) (32 + 16 tag) = 92 bytes.
 * The info/AAD binding means an escrowed key cannot be moved to another content id or creator.
 */
import type { Address, Hex, TypedDataDomain } from "viem";
import { StreamVaultError } from "../errors.ts";

export const ESCROW_ALG = "SV-ESC1" as const;
export const ESCROW_PURPOSE = "Derive the key that seals my StreamVault content keys for recovery. Sign this only on StreamVault.";
const PRIVATE_INFO = "streamvault/key-escrow/v1/x25519";
const SEAL_INFO = "streamvault/key-escrow/v1";
const X25519_BYTES = 32;
const IV_BYTES = 12;
export const ESCROW_SEALED_BYTES = X25519_BYTES + IV_BYTES + 32 + 16;
// PKCS#8 wrapping of a raw X25519 private key (RFC 8410): WebCrypto imports private keys only this way.
const PKCS8_X25519_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

/** The escrow key could not open a sealed key: another wallet's escrow, or the row was altered. */
export class EscrowUnsealError extends StreamVaultError {
  constructor(contentId: string) {
    super("integrity", `escrowed key of ${contentId} could not be opened: the wallet is not the one the escrow was set up with, or the escrow entry was altered`);
    this.name = "EscrowUnsealError";
  }
}

/** The wallet's signer gave two different signatures for the same typed data: it cannot derive a stable escrow key. */
export class NonDeterministicSignerError extends StreamVaultError {
  constructor() {
    super("bad_input", "the wallet signed the escrow message twice with different signatures: it does not sign deterministically (RFC 6979), so it cannot hold a recovery key; use a standard EOA wallet");
    this.name = "NonDeterministicSignerError";
  }
}

/** The EIP-712 typed data a creator signs to derive the escrow key (sign with `signTypedData(escrowTypedData(...))`). */
export function escrowTypedData(params: { chainId: number; verifyingContract: Address; creator: Address }) {
  return {
    domain: { name: "StreamVault key escrow", version: "1", chainId: params.chainId, verifyingContract: params.verifyingContract } satisfies TypedDataDomain,
    types: { KeyEscrow: [{ name: "creator", type: "address" }, { name: "purpose", type: "string" }] },
    primaryType: "KeyEscrow" as const,
    message: { creator: params.creator, purpose: ESCROW_PURPOSE },
  };
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new Error("WebCrypto (crypto.subtle) is not available: use a secure context (https or localhost)");
  return s;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

function hexToBytes(hex: string): Uint8Array {
  const h = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new TypeError("not hex");
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHexString(bytes: Uint8Array): Hex {
  let s = "0x";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s as Hex;
}

async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, bytes = 32): Promise<Uint8Array> {
  const base = await subtle().importKey("raw", buf(ikm), "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt: buf(salt), info: buf(info) }, base, bytes * 8));
}

async function importPrivate(raw: Uint8Array): Promise<CryptoKey> {
  const pkcs8 = new Uint8Array(PKCS8_X25519_PREFIX.length + X25519_BYTES);
  pkcs8.set(PKCS8_X25519_PREFIX);
  pkcs8.set(raw, PKCS8_X25519_PREFIX.length);
  return subtle().importKey("pkcs8", pkcs8, { name: "X25519" }, true, ["deriveBits"]);
}

async function publicOf(privateKey: CryptoKey): Promise<Uint8Array> {
  const jwk = await subtle().exportKey("jwk", privateKey);
  const b64 = jwk.x!.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const importPublic = (raw: Uint8Array) => subtle().importKey("raw", buf(raw), { name: "X25519" }, false, []);

async function sharedSecret(privateKey: CryptoKey, publicKey: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().deriveBits({ name: "X25519", public: await importPublic(publicKey) }, privateKey, 256));
}

/** A creator's escrow: the public key the server seals to, and each content key sealed to it. */
export interface CreatorEscrow {
  creator: string;
  publicKey: Uint8Array;
  keys: { contentId: string; sealed: Uint8Array }[];
}

/** The escrow key pair: `privateKey` stays with the creator (never sent anywhere), `publicKey` (32 bytes) goes to the server. */
export interface EscrowKeyPair {
  privateKey: CryptoKey;
  publicKey: Uint8Array;
}

/** Escrow key pair from the wallet's signature of `escrowTypedData` (65-byte 0x hex). */
export async function escrowKeyPairFromSignature(signature: Hex): Promise<EscrowKeyPair> {
  const sig = hexToBytes(signature);
  if (sig.length !== 65) throw new TypeError(`escrow signature must be 65 bytes, got ${sig.length}`);
  const privateKey = await importPrivate(await hkdf(sig, new Uint8Array(0), utf8(PRIVATE_INFO)));
  return { privateKey, publicKey: await publicOf(privateKey) };
}

/** Signs the escrow typed data twice (refusing a signer that is not deterministic) and derives the key pair. */
export async function deriveEscrowKeyPair(sign: (typedData: ReturnType<typeof escrowTypedData>) => Promise<Hex>, params: Parameters<typeof escrowTypedData>[0]): Promise<EscrowKeyPair> {
  const typedData = escrowTypedData(params);
  const first = await sign(typedData);
  const second = await sign(typedData);
  if (first.toLowerCase() !== second.toLowerCase()) throw new NonDeterministicSignerError();
  return escrowKeyPairFromSignature(first);
}

const sealInfo = (contentId: string, creator: string) => utf8(`${SEAL_INFO}\0${contentId.toLowerCase()}\0${creator.toLowerCase()}`);

/** Seal a content key to the creator's escrow public key (92 bytes; see the scheme above). */
export async function sealToEscrow(escrowPublicKey: Uint8Array, contentId: string, creator: string, contentKey: Uint8Array): Promise<Uint8Array> {
  if (escrowPublicKey.length !== X25519_BYTES) throw new RangeError("escrow public key must be 32 bytes (X25519)");
  const eph = (await subtle().generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
  const ephPublic = new Uint8Array(await subtle().exportKey("raw", eph.publicKey));
  const z = await sharedSecret(eph.privateKey, escrowPublicKey);
  const info = sealInfo(contentId, creator);
  const kek = await subtle().importKey("raw", buf(await hkdf(z, concat(ephPublic, escrowPublicKey), info)), "AES-GCM", false, ["encrypt"]);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv, additionalData: buf(info) }, kek, buf(contentKey)));
  return concat(ephPublic, iv, ct);
}

/** Open an escrowed content key with the escrow key pair; EscrowUnsealError if it is not this creator's or was altered. */
export async function openEscrow(pair: EscrowKeyPair, contentId: string, creator: string, sealed: Uint8Array): Promise<Uint8Array> {
  try {
    if (sealed.length !== ESCROW_SEALED_BYTES) throw new Error("length");
    const ephPublic = sealed.subarray(0, X25519_BYTES);
    const iv = sealed.subarray(X25519_BYTES, X25519_BYTES + IV_BYTES);
    const z = await sharedSecret(pair.privateKey, ephPublic);
    const info = sealInfo(contentId, creator);
    const kek = await subtle().importKey("raw", buf(await hkdf(z, concat(ephPublic, pair.publicKey), info)), "AES-GCM", false, ["decrypt"]);
    return new Uint8Array(await subtle().decrypt({ name: "AES-GCM", iv: buf(iv), additionalData: buf(info) }, kek, buf(sealed.subarray(X25519_BYTES + IV_BYTES))));
  } catch {
    throw new EscrowUnsealError(contentId);
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

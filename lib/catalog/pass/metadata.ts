/**
 * The creator pass's ERC-721 metadata: the image and the metadata JSON are stored as pieces, served
 * by the piece gateway, and CreatorPass.setMetadataURI points every pass at `<gateway>/piece/<cid>`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { zeroAddress } from "viem";
import type { Address, Hex } from "viem";
import { ABIS } from "../../deployments/index.ts";
import { MIN_PIECE_BYTES } from "../../storage/types.ts";
import type { PieceStore } from "../../storage/types.ts";
import type { ChainContext } from "../chain/client.ts";
import { sendAndWait } from "../chain/client.ts";
import { StreamVaultError } from "../../errors.ts";

export interface PassMetadataInput {
  image: string;
  name: string;
  description: string;
  /** public base URL of a gateway serving this store's pieces */
  gatewayUrl: string;
  attributes?: { trait_type: string; value: string | number }[];
}

export interface PassMetadataResult {
  pass: Address;
  imageCid: string;
  metadataCid: string;
  metadataUri: string;
  imageUrl: string;
  txHash: Hex;
  metadata: Record<string, unknown>;
}

export class PassNotLaunchedError extends StreamVaultError {
  constructor(creator: Address) {
    super("not_found", `${creator} has no creator pass: launch the creator first (CreatorRegistry.launchCreator)`);
    this.name = "PassNotLaunchedError";
  }
}

const IMAGE_TYPES: Record<string, string> = { ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif", ".svg": "image/svg+xml" };

/** Pad to the minimum piece size with trailing whitespace (harmless in JSON). */
export function padJson(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length >= MIN_PIECE_BYTES) return bytes;
  return new TextEncoder().encode(text + " ".repeat(MIN_PIECE_BYTES - bytes.length));
}

export async function publishPassMetadata(ctx: ChainContext, store: PieceStore, input: PassMetadataInput): Promise<PassMetadataResult> {
  const ext = path.extname(input.image).toLowerCase();
  if (!IMAGE_TYPES[ext]) throw new StreamVaultError("bad_input", `--image must be one of ${Object.keys(IMAGE_TYPES).join(", ")}`);
  const pass = await ctx.publicClient.readContract({ address: ctx.creatorRegistry.address, abi: ctx.creatorRegistry.abi, functionName: "passOf", args: [ctx.account.address] });
  if (pass === zeroAddress) throw new PassNotLaunchedError(ctx.account.address);
  let image = new Uint8Array(await readFile(input.image));
  if (image.length < MIN_PIECE_BYTES) throw new StreamVaultError("bad_input", `${input.image} is only ${image.length} bytes; use a real image`);
  const base = input.gatewayUrl.replace(/\/+$/, "");
  const imagePut = await store.put(image);
  image = new Uint8Array(0);
  const imageUrl = `${base}/piece/${imagePut.pieceCid}`;
  const metadata: Record<string, unknown> = {
    name: input.name,
    description: input.description,
    image: imageUrl,
    properties: { imagePieceCid: imagePut.pieceCid, imageType: IMAGE_TYPES[ext], creator: ctx.account.address },
  };
  if (input.attributes?.length) metadata.attributes = input.attributes;
  const metaPut = await store.put(padJson(JSON.stringify(metadata, null, 2)));
  const metadataUri = `${base}/piece/${metaPut.pieceCid}`;
  const { hash } = await sendAndWait(ctx, () => ctx.walletClient.writeContract({ address: pass, abi: ABIS.CreatorPass, functionName: "setMetadataURI", args: [metadataUri] }));
  return { pass, imageCid: imagePut.pieceCid, metadataCid: metaPut.pieceCid, metadataUri, imageUrl, txHash: hash, metadata };
}

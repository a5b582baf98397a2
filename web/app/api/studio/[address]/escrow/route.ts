/**
 * Key escrow of a creator's content keys (lib/keys/escrow.ts): the studio derives an X25519 key
 * pair from the wallet's signature of fixed EIP-712 typed data and sends only the public key; every
 * stored content key of the creator, and each new upload's, is then sealed to it, and backups carry
 * them (`streamvault restore` opens them with the same wallet).
 * GET (the creator's session): { escrow, escrowed, storedKeys, registeredItems }.
 * POST (a single-use signed "StreamVault key-escrow" request from the launched creator, bound to its
 * JSON body { publicKey: 0x + 64 hex }): registers the public key and seals the stored keys to it.
 * The signed request matters: whoever registers the public key can open the keys in every later backup.
 */
import type { Address } from "viem";
import { checkSignedAction } from "@/lib/server/signed-request";
import { studioCreator } from "@/lib/server/keyrelease";
import { keyStore } from "@/lib/server/keystore";
import { readOnlyContext } from "@/lib/server/creator-catalog";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const noStore = { "cache-control": "no-store" };

async function status(creator: Address) {
  const [{ registeredContentIds }, chain, keys] = await Promise.all([
    import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/chain/content.ts") as Promise<typeof import("@streamvault/lib/catalog/chain/content.ts")>,
    readOnlyContext(creator),
    keyStore(),
  ]);
  const ids = await registeredContentIds(chain, creator);
  let storedKeys = 0;
  for (const id of ids) if (await keys.hasKey(id)) storedKeys++;
  const escrow = await keys.escrowOf(creator);
  return { ids, keys, body: { creator, escrow: escrow !== undefined, escrowed: escrow?.keys.length ?? 0, storedKeys, registeredItems: ids.length } };
}

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const creator = await studioCreator(request, (await ctx.params).address);
  if (creator instanceof Response) return creator;
  return Response.json((await status(creator)).body, { headers: noStore });
}

export async function POST(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const address = (await ctx.params).address;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return Response.json({ error: "bad_address", message: "bad address: expected 0x followed by 40 hex characters" }, { status: 400 });
  const creator = address.toLowerCase() as Address;
  const signed = await checkSignedAction(request, "key-escrow", creator, 1024);
  if (signed instanceof Response) return signed;
  let publicKey: string | undefined;
  try {
    publicKey = (JSON.parse(new TextDecoder().decode(signed.body)) as { publicKey?: unknown }).publicKey as string | undefined;
  } catch {
    publicKey = undefined;
  }
  if (typeof publicKey !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(publicKey)) {
    return Response.json({ error: "bad_public_key", message: "send { publicKey: 0x followed by 64 hex characters } (the X25519 escrow public key the studio derives)" }, { status: 400, headers: noStore });
  }
  const { ids, keys } = await status(creator);
  await keys.setEscrowKey(creator, new Uint8Array(Buffer.from(publicKey.slice(2), "hex")), ids);
  return Response.json((await status(creator)).body, { headers: noStore });
}

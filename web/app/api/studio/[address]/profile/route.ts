/**
 * POST: store a creator's profile (a single-use "StreamVault profile" request signed by the launched
 * creator, bound to its JSON body: lib/signed-request). Body: `{name, bio, links[{label,url}],
 * avatar, banner}`, each image `{data: base64}` (new; re-encoded and stored as a piece),
 * `{piece: PieceCID}` (kept) or absent. Answers `{pieceCid, uri, profile}`; the creator's wallet then
 * calls `CreatorRegistry.setProfileURI(uri)`.
 */
import type { Hex } from "viem";
import { z } from "zod/v4";
import { checkSignedAction } from "@/lib/server/signed-request";
import { pieceStore } from "@/lib/server/store";
import { webOrigin } from "@/lib/server/config";
import { ProfileLinkSchema, profileUriOf } from "@streamvault/lib/catalog/profile/schema.ts";
import { errorCodeOf, httpStatusOf } from "@streamvault/lib/errors.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Two images of at most 8 MiB, as base64, and the text. */
const MAX_BODY_BYTES = 23 * 1024 * 1024;

const image = z.union([z.strictObject({ data: z.string().min(1) }), z.strictObject({ piece: z.string().min(1) })]).optional().nullable();
const RequestSchema = z.strictObject({
  name: z.string(),
  bio: z.string().optional(),
  links: z.array(ProfileLinkSchema).optional(),
  avatar: image,
  banner: image,
});

function profileLib(): Promise<typeof import("@streamvault/lib/catalog/profile/store.ts")> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/catalog/profile/store.ts");
}

const imageInput = (v: z.infer<typeof image>) => (!v ? undefined : "data" in v ? { bytes: new Uint8Array(Buffer.from(v.data, "base64")) } : { piece: v.piece });

export async function POST(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const address = (await ctx.params).address;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return Response.json({ error: "bad_address", message: "bad address: expected 0x followed by 40 hex characters" }, { status: 400 });
  const signed = await checkSignedAction(request, "profile", address.toLowerCase() as Hex, MAX_BODY_BYTES);
  if (signed instanceof Response) return signed;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(signed.body));
  } catch {
    return Response.json({ error: "bad_input", message: "the profile request is not JSON" }, { status: 400 });
  }
  const req = RequestSchema.safeParse(json);
  if (!req.success) {
    const message = req.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    return Response.json({ error: "bad_input", message: `profile: ${message}` }, { status: 400 });
  }
  try {
    const [{ storeProfile }, store] = await Promise.all([profileLib(), pieceStore()]);
    const { pieceCid, profile } = await storeProfile(store, { ...req.data, avatar: imageInput(req.data.avatar), banner: imageInput(req.data.banner) });
    return Response.json({ pieceCid, uri: profileUriOf(`${webOrigin()}/api`, pieceCid), profile }, { headers: { "cache-control": "no-store" } });
  } catch (err) {
    const code = errorCodeOf(err);
    if (!code) throw err;
    return Response.json({ error: code, message: (err as Error).message }, { status: httpStatusOf(err) });
  }
}

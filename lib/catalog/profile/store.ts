/**
 * Storing and reading creator profiles (Node): the avatar and banner are re-encoded with sharp
 * (square 400 px avatar, 1500 x 500 banner, JPEG, metadata stripped) and stored as pieces, then the
 * validated profile JSON is stored as a piece; its URI goes to `CreatorRegistry.setProfileURI`.
 */
import sharp from "sharp";
import type { PieceStore } from "../../storage/types.ts";
import { StreamVaultError } from "../../errors.ts";
import { padJson } from "../pass/metadata.ts";
import { PROFILE_VERSION, ProfileSchema, profileProblems, type Profile, type ProfileLink } from "./schema.ts";

/** Box sizes of the stored images (cover crop). */
export const PROFILE_IMAGE_SIZES = { avatar: { width: 400, height: 400 }, banner: { width: 1500, height: 500 } } as const;
/** Largest source image accepted (before re-encoding). */
export const MAX_PROFILE_IMAGE_BYTES = 8 * 1024 * 1024;

export type ProfileImageKind = keyof typeof PROFILE_IMAGE_SIZES;

/** An image as the creator gives it: new bytes, the PieceCID of one already stored (kept), or none. */
export type ProfileImageInput = { bytes: Uint8Array } | { piece: string } | undefined;

export interface ProfileInput {
  name: string;
  bio?: string;
  links?: ProfileLink[];
  avatar?: ProfileImageInput;
  banner?: ProfileImageInput;
}

/** Re-encodes an image for `kind` (JPEG, cover-cropped to its box, EXIF orientation applied and dropped). */
export async function processProfileImage(bytes: Uint8Array, kind: ProfileImageKind): Promise<Uint8Array> {
  if (bytes.byteLength > MAX_PROFILE_IMAGE_BYTES) throw new StreamVaultError("bad_input", `the ${kind} image is ${bytes.byteLength} bytes; use one of at most ${MAX_PROFILE_IMAGE_BYTES / 1024 / 1024} MiB`);
  const { width, height } = PROFILE_IMAGE_SIZES[kind];
  try {
    return new Uint8Array(await sharp(bytes).rotate().resize(width, height, { fit: "cover", position: "attention" }).jpeg({ quality: 82, mozjpeg: true }).toBuffer());
  } catch (err) {
    throw new StreamVaultError("bad_input", `the ${kind} is not a readable image (${(err as Error).message}): use a PNG, JPEG, WebP or GIF`);
  }
}

async function storedImage(store: PieceStore, image: ProfileImageInput, kind: ProfileImageKind): Promise<string | undefined> {
  if (!image) return undefined;
  if ("piece" in image) {
    // A kept image must still be in the store: a profile never points at bytes nobody serves.
    if (!(await store.has(image.piece))) throw new StreamVaultError("not_found", `the current ${kind} (${image.piece}) is not in this store: choose the image again`);
    return image.piece;
  }
  return (await store.put(await processProfileImage(image.bytes, kind))).pieceCid;
}

/** Validates the profile, stores its images and its JSON; the JSON's PieceCID and the document. */
export async function storeProfile(store: PieceStore, input: ProfileInput): Promise<{ pieceCid: string; profile: Profile }> {
  const draft = { version: PROFILE_VERSION, name: input.name, bio: input.bio ?? "", links: input.links ?? [] };
  const problems = profileProblems(draft);
  if (problems.length) throw new StreamVaultError("bad_input", `profile: ${problems.join("; ")}`);
  const [avatar, banner] = await Promise.all([storedImage(store, input.avatar, "avatar"), storedImage(store, input.banner, "banner")]);
  const profile = ProfileSchema.parse({ ...draft, ...(avatar ? { avatar } : {}), ...(banner ? { banner } : {}) });
  const put = await store.put(padJson(JSON.stringify(profile)));
  return { pieceCid: put.pieceCid, profile };
}

/** The profile stored under `cid`, validated; a piece that is not a profile is a `bad_input` error. */
export async function readProfile(store: PieceStore, cid: string): Promise<Profile> {
  const bytes = await store.get(cid);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new StreamVaultError("bad_input", `piece ${cid} is not JSON, so not a creator profile`);
  }
  const parsed = ProfileSchema.safeParse(json);
  if (!parsed.success) throw new StreamVaultError("bad_input", `piece ${cid} is not a creator profile: ${profileProblems(json).join("; ")}`);
  return parsed.data;
}

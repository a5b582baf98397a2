/**
 * A creator's profile document: name, avatar, banner, bio and links. It is stored as a piece (JSON)
 * and `CreatorRegistry.setProfileURI` points at it with the piece gateway URL form the pass
 * metadata uses (`<gateway>/piece/<PieceCID>`); avatar and banner are pieces of their own, named by
 * PieceCID. No Node imports: the studio validates the form with the same schema the server does.
 */
import { z } from "zod/v4";
import * as Piece from "@filoz/synapse-core/piece";

export const PROFILE_VERSION = 1 as const;

const pieceCid = z.string().refine((value) => Piece.asPieceCID(value) != null, { message: "not a PieceCID v2" });

export const ProfileLinkSchema = z.strictObject({
  label: z.string().trim().min(1, "a link needs a label").max(40, "a link label is at most 40 characters"),
  url: z
    .string()
    .trim()
    .max(300, "a link is at most 300 characters")
    .refine((value) => /^https?:\/\/[^\s/]+\.[^\s]+$/i.test(value) || /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/\S*)?$/i.test(value), {
      message: "a link must be an http:// or https:// address, e.g. https://example.com",
    }),
});

export const ProfileSchema = z.strictObject({
  version: z.literal(PROFILE_VERSION),
  name: z.string().trim().min(1, "the name is empty: type the name fans should see").max(64, "the name is at most 64 characters"),
  bio: z.string().max(1000, "the bio is at most 1,000 characters").default(""),
  links: z.array(ProfileLinkSchema).max(8, "at most 8 links").default([]),
  /** PieceCID of the square avatar (JPEG). */
  avatar: pieceCid.optional(),
  /** PieceCID of the wide banner (JPEG). */
  banner: pieceCid.optional(),
});

export type Profile = z.infer<typeof ProfileSchema>;
export type ProfileLink = z.infer<typeof ProfileLinkSchema>;

/** The profile URI of a stored profile piece: the gateway URL form (`<base>/piece/<cid>`), as pass metadata. */
export function profileUriOf(gatewayBase: string, cid: string): string {
  return `${gatewayBase.replace(/\/+$/, "")}/piece/${cid}`;
}

/** The PieceCID a profile URI names (`…/piece/<cid>`, `…/api/piece/<cid>`, or a bare PieceCID), else undefined. */
export function profilePieceOf(uri: string): string | undefined {
  const candidate = /\/piece\/([A-Za-z0-9]+)\/?$/.exec(uri.trim())?.[1] ?? uri.trim();
  return Piece.asPieceCID(candidate) != null ? candidate : undefined;
}

/** The first problem of `value` as a profile, said as one line per field ("links.0.url: …"). */
export function profileProblems(value: unknown): string[] {
  const parsed = ProfileSchema.safeParse(value);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
}

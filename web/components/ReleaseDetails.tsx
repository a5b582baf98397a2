"use client";
/**
 * A release's details (title, artist, album, track number, description, cover) in the studio:
 * the fields of the upload form and of "Edit details", and the call that stores them as a new
 * manifest over the same media (POST /api/studio/<creator>/release; lib/media/release.ts). The
 * wallet then puts the answer on chain.
 */
import type { Config } from "wagmi";
import type { Address, Hex } from "viem";
import { studioFetch } from "@/lib/client/studio-fetch";

export interface ReleaseDetailsForm {
  title: string;
  artist: string;
  album: string;
  trackNumber: string;
  description: string;
  artwork?: File;
}

export const EMPTY_DETAILS: ReleaseDetailsForm = { title: "", artist: "", album: "", trackNumber: "", description: "" };

/** Whether the form sets anything (an empty upload form keeps the file's own tags). */
export function hasDetails(d: ReleaseDetailsForm): boolean {
  return Boolean(d.title.trim() || d.artist.trim() || d.album.trim() || d.trackNumber.trim() || d.description.trim() || d.artwork);
}

/** Checked in the browser first, so a typo never costs a request; the server checks again. */
export function detailsError(d: ReleaseDetailsForm): string | null {
  if (d.trackNumber.trim() && !/^\d{1,3}$/.test(d.trackNumber.trim())) return "track number must be a whole number such as 3";
  if (d.title.length > 200 || d.artist.length > 200 || d.album.length > 200) return "title, artist and album are at most 200 characters";
  if (d.description.length > 5000) return "the description is at most 5000 characters";
  if (d.artwork && !/^image\//.test(d.artwork.type)) return `${d.artwork.name} is not an image: choose a JPEG, PNG or WebP cover`;
  return null;
}

/**
 * Store the details as the item's next manifest. `keepEmpty`: on upload an empty field keeps the
 * file's tag; when editing, an emptied artist/album/description/track removes it.
 */
export async function saveReleaseDetails(wagmi: Config, creator: Address, chainId: number, contentId: Hex, d: ReleaseDetailsForm, keepEmpty: boolean): Promise<{ manifestCid: string; changed: boolean }> {
  const form = new FormData();
  form.set("contentId", contentId);
  for (const key of ["title", "artist", "album", "trackNumber", "description"] as const) {
    const value = d[key].trim();
    if (value || !keepEmpty) form.set(key, key === "trackNumber" && !value ? "0" : value);
  }
  if (!keepEmpty && !d.title.trim()) form.delete("title");
  if (d.artwork) form.set("artwork", d.artwork);
  const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/release`, { method: "POST", body: form });
  const body = (await res.json().catch(() => ({}))) as { manifestCid?: string; changed?: boolean; message?: string };
  if (!res.ok || !body.manifestCid) throw new Error(body.message ?? `the details could not be saved (${res.status})`);
  return { manifestCid: body.manifestCid, changed: Boolean(body.changed) };
}

/** `single`: the details name one track (title, track number shown); `asAlbum`: they are an album's, whose title is asked for apart (no album field). */
export function ReleaseDetailsFields({ value, onChange, titleHint, single = true, asAlbum = false }: { value: ReleaseDetailsForm; onChange: (v: ReleaseDetailsForm) => void; titleHint?: string; single?: boolean; asAlbum?: boolean }) {
  const set = (k: Exclude<keyof ReleaseDetailsForm, "artwork">) => (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => onChange({ ...value, [k]: e.target.value });
  return (
    <fieldset className="form" style={{ border: "1px solid #2c2c40", borderRadius: 12, padding: 12, marginTop: 12 }}>
      <legend>Release details</legend>
      {single && (
        <label>
          Title
          <input value={value.title} onChange={set("title")} name="title" placeholder={titleHint ?? "from the file's tags, else its name"} data-testid="release-title" />
        </label>
      )}
      <label>
        Artist
        <input value={value.artist} onChange={set("artist")} name="artist" placeholder="from the file's tags" data-testid="release-artist" />
      </label>
      {!asAlbum && (
        <label>
          Album
          <input value={value.album} onChange={set("album")} name="album" placeholder="from the file's tags" data-testid="release-album" />
        </label>
      )}
      {single && (
        <label>
          Track number
          <input value={value.trackNumber} onChange={set("trackNumber")} name="trackNumber" inputMode="numeric" data-testid="release-track" />
        </label>
      )}
      <label>
        Description
        <textarea rows={2} value={value.description} onChange={set("description")} name="description" data-testid="release-description" />
      </label>
      <label>
        Cover image (JPEG, PNG, WebP)
        <input type="file" accept="image/jpeg,image/png,image/webp" onChange={(e) => onChange({ ...value, artwork: e.target.files?.[0] })} data-testid="release-artwork" />
      </label>
    </fieldset>
  );
}

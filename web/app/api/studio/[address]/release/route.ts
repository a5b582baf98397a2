/**
 * Edit a release's details (lib/media/release.ts editRelease): POST multipart form data with
 * `contentId` and any of `title`, `artist`, `album`, `trackNumber`, `description`, `artwork` (an
 * image file), from the creator's signed-in session. The server stores a new manifest over the
 * item's media pieces (nothing is re-encoded) and the cover's thumbnails, and answers
 * `{manifestCid, changed, tags}`; the creator's wallet then puts it on chain
 * (`ContentAccess.updateManifest`, or `registerContent` for an item not yet registered, whose
 * manifest is its upload job's). The server never signs for the creator.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPublicClient, http, type Hex } from "viem";
import { cidFromBytes } from "@streamvault/lib/chain/cid.ts";
import { errorCodeOf, httpStatusOf } from "@streamvault/lib/errors.ts";
import { studioCreator } from "@/lib/server/keyrelease";
import { RPC_URL, contract } from "@/lib/server/config";
import { pieceStore } from "@/lib/server/store";
import { uploadService } from "@/lib/server/upload-jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Largest cover image accepted. */
const MAX_ARTWORK_BYTES = 20 * 1024 * 1024;

const json = (body: unknown, status = 200) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

type ReleaseLib = typeof import("@streamvault/lib/media/release.ts");

export async function POST(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const creator = await studioCreator(request, (await ctx.params).address);
  if (creator instanceof Response) return creator;
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return json({ error: "bad_input", message: "send the release details as multipart form data (contentId, title, artist, album, trackNumber, description, artwork)" }, 400);
  }
  const text = (name: string) => {
    const v = form.get(name);
    return typeof v === "string" ? v : undefined;
  };
  const contentId = (text("contentId") ?? "").toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(contentId)) return json({ error: "bad_input", message: "contentId must be 0x followed by 64 hex characters" }, 400);
  const artwork = form.get("artwork");
  const cover = artwork instanceof File && artwork.size > 0 ? artwork : undefined;
  if (cover && cover.size > MAX_ARTWORK_BYTES) return json({ error: "bad_input", message: `the cover image is ${(cover.size / 2 ** 20).toFixed(1)} MiB: use one under ${MAX_ARTWORK_BYTES / 2 ** 20} MiB` }, 413);

  const release: ReleaseLib = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/media/release.ts");
  let metadata;
  try {
    metadata = release.parseReleaseMetadata({ title: text("title"), artist: text("artist"), album: text("album"), trackNumber: text("trackNumber"), description: text("description") });
  } catch (err) {
    return json({ error: "bad_input", message: (err as Error).message }, 400);
  }

  // The manifest to edit: the chain's for a registered item (of this creator only), else the upload job's.
  let base: string | undefined;
  try {
    const client = createPublicClient({ transport: http(RPC_URL, { timeout: 8000 }) });
    const [owner, , manifest] = await client.readContract({ ...contract("ContentAccess"), functionName: "contentInfo", args: [contentId as Hex] });
    if (owner.toLowerCase() !== creator) return json({ error: "forbidden", message: `${contentId} belongs to ${owner}, not ${creator}` }, 403);
    base = cidFromBytes(manifest);
  } catch (err) {
    if (!String((err as Error).message).includes("UnknownContent")) return json({ error: "unavailable", message: `the chain could not be read: ${(err as Error).message}` }, 503);
    const job = await (await uploadService()).queue.byContent(creator, contentId);
    base = job?.result?.manifestCid;
    if (!base) return json({ error: "not_found", message: `${contentId} is neither registered nor a finished upload of ${creator}` }, 404);
  }

  const workDir = await mkdtemp(path.join(tmpdir(), "streamvault-release-"));
  try {
    let artworkPath: string | undefined;
    if (cover) {
      artworkPath = path.join(workDir, "cover");
      await writeFile(artworkPath, new Uint8Array(await cover.arrayBuffer()));
    }
    const edited = await release.editRelease(await pieceStore(), base, { metadata, artwork: artworkPath, workDir, signal: request.signal });
    return json({ contentId, previousManifestCid: base, manifestCid: edited.manifestCid, changed: edited.changed, tags: edited.manifest.tags });
  } catch (err) {
    return json({ error: errorCodeOf(err) ?? "internal", message: (err as Error).message }, httpStatusOf(err));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

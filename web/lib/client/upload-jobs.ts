/**
 * The studio's side of upload jobs (server: lib/catalog/uploads/http.ts): hash each file in the
 * browser (streamed, so a 1 GiB file is never in memory at once), build the single-use
 * body-bound signed request the wallet signs (lib/signed-request/message.ts), send each file's raw
 * bytes with upload progress (XMLHttpRequest: fetch reports none), then follow the job by polling.
 */
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";
import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";
import { newNonce, signedRequestHeaders, signedRequestMessage, type SignedBody } from "@streamvault/lib/signed-request/message.ts";
import type { UploadJob } from "@streamvault/lib/catalog/uploads/jobs.ts";
import { albumHashInput } from "@streamvault/lib/catalog/uploads/album-id.ts";

export type { UploadJob };

/** An album's SHA-256 from its tracks' SHA-256s in order (the server computes the same: album-id.ts). */
export function albumSha256Of(trackSha256s: readonly string[]): string {
  return bytesToHex(sha256(new TextEncoder().encode(albumHashInput(trackSha256s))));
}

/** SHA-256 of a file, read as a stream; `onProgress` gets the fraction hashed. */
export async function sha256OfFile(file: File, onProgress?: (fraction: number) => void): Promise<string> {
  const hash = sha256.create();
  const reader = file.stream().getReader();
  let done = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    hash.update(chunk.value);
    done += chunk.value.byteLength;
    onProgress?.(file.size ? done / file.size : 1);
  }
  return bytesToHex(hash.digest());
}

/** The content id the chain gives these bytes of this creator (externalId = keccak256(sha256)). */
export function contentIdOf(creator: Address, sha256Hex: string): Hex {
  const externalId = keccak256(`0x${sha256Hex}`);
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [creator, externalId])).toLowerCase() as Hex;
}

/** The message the wallet signs for these bodies. */
export function uploadMessage(creator: Address, bodies: SignedBody[]): string {
  return signedRequestMessage({ action: "upload", wallet: creator, nonce: newNonce(), time: new Date().toISOString(), bodies });
}

/** The job of these bytes, if the server has one (the file is then not sent again). */
export async function findJob(creator: Address, contentId: Hex): Promise<UploadJob | undefined> {
  const res = await fetch(`/api/upload/jobs?creator=${creator}&contentId=${contentId}`, { cache: "no-store" });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`the server could not look up the upload (${res.status})`);
  return ((await res.json()) as { job: UploadJob }).job;
}

/**
 * POSTs a signed upload body to `/api/upload?<query>` with upload progress (`onBytes`: bytes sent);
 * resolves with its job once the server has it whole (202), rejects with the server's reason.
 */
function postUpload(query: string, body: Blob, message: string, signature: string, what: string, onBytes: (sent: number) => void): Promise<UploadJob> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/upload?${query}`);
    for (const [k, v] of Object.entries(signedRequestHeaders(message, signature))) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onBytes(e.loaded);
    xhr.onload = () => {
      let answer: { job?: UploadJob; error?: string } = {};
      try {
        answer = JSON.parse(xhr.responseText) as typeof answer;
      } catch {
        // not JSON: reported by status below
      }
      if (xhr.status < 300 && answer.job) resolve(answer.job);
      else reject(new Error(answer.error ?? `upload refused (${xhr.status})`));
    };
    xhr.onerror = () => reject(new Error(`the connection broke while sending the ${what}: press Process and publish again`));
    xhr.send(body);
  });
}

/** Sends one file; resolves with its job once the server has it whole (202), rejects with the server's reason. */
export function sendFile(input: { file: File; creator: Address; tier: string; freeStandard?: boolean; previewStart?: string; sha256: string; message: string; signature: string; onProgress: (fraction: number) => void }): Promise<UploadJob> {
  const { file, creator, tier, sha256: sha } = input;
  const query = `creator=${creator}&tier=${tier}${input.freeStandard && tier !== "free" ? "&freeStandard=1" : ""}${input.previewStart ? `&previewStart=${encodeURIComponent(input.previewStart)}` : ""}&name=${encodeURIComponent(file.name)}&sha256=${sha}`;
  return postUpload(query, file, input.message, input.signature, "file", (sent) => input.onProgress(file.size ? sent / file.size : 1));
}

interface AlbumQueryInput {
  files: File[];
  titles: string[];
  albumTitle: string;
  creator: Address;
  tier: string;
  freeStandard?: boolean;
  sha256s: string[];
}

/** The album upload's query: the album, then each track's SHA-256, file name and title in track order. */
function albumQuery(input: AlbumQueryInput): URLSearchParams {
  const query = new URLSearchParams({ creator: input.creator, tier: input.tier, album: input.albumTitle });
  if (input.freeStandard && input.tier !== "free") query.set("freeStandard", "1");
  input.files.forEach((f, i) => {
    query.append("track", input.sha256s[i]!);
    query.append("trackName", f.name);
    query.append("trackTitle", input.titles[i] ?? "");
  });
  return query;
}

/**
 * The most bytes the album request's query and signed message (base64, in a header) may take
 * together: Node's HTTP server reads at most 16 KiB of request line and headers, and cookies and
 * the other headers need the rest.
 */
const MAX_ALBUM_REQUEST_HEAD = 14_000;

/** Why these tracks cannot go in one album upload request (the track list is too long for it), or null. */
export function albumQueryProblem(input: Omit<AlbumQueryInput, "sha256s">): string | null {
  const zeros = input.files.map(() => "0".repeat(64));
  const query = albumQuery({ ...input, sha256s: zeros }).toString().length;
  const message = new TextEncoder().encode(uploadMessage(input.creator, input.files.map((f, i) => ({ size: f.size, sha256: zeros[i]! })))).length;
  if (query + 4 * Math.ceil(message / 3) <= MAX_ALBUM_REQUEST_HEAD) return null;
  return `the track list of these ${input.files.length} tracks (their file names and titles) is too long for one upload: shorten the file names or titles, or upload the album with the CLI (streamvault upload --as-album)`;
}

/**
 * Sends an album's tracks as ONE request (their bytes back to back, in track order; the server
 * splits and checks each against its signed size and SHA-256) and resolves with the album's one
 * job. `onProgress` gets each track's fraction sent.
 */
export function sendAlbum(input: AlbumQueryInput & { message: string; signature: string; onProgress: (track: number, fraction: number) => void }): Promise<UploadJob> {
  const { files } = input;
  const query = albumQuery(input);
  // Where each track's bytes start in the one body: the bytes sent, per track.
  const starts = files.map((_, i) => files.slice(0, i).reduce((n, f) => n + f.size, 0));
  // A Blob of the files reads them as it sends: nothing is copied into memory.
  return postUpload(query.toString(), new Blob(files), input.message, input.signature, "album", (sent) =>
    files.forEach((f, i) => input.onProgress(i, f.size ? Math.min(1, Math.max(0, (sent - starts[i]!) / f.size)) : 1)),
  );
}

export async function getJob(id: string): Promise<UploadJob> {
  const res = await fetch(`/api/upload/jobs/${id}`, { cache: "no-store" });
  const body = (await res.json().catch(() => ({}))) as { job?: UploadJob; error?: string };
  if (!body.job) throw new Error(body.error ?? `no upload job ${id} (${res.status})`);
  return body.job;
}

/** Polls the job until it is published, registered or failed; `onUpdate` sees every state. */
export async function followJob(id: string, onUpdate: (job: UploadJob) => void, intervalMs = 1000): Promise<UploadJob> {
  for (;;) {
    let job: UploadJob | undefined;
    try {
      job = await getJob(id);
    } catch {
      // an instance going away behind the balancer: ask again
    }
    if (job) {
      onUpdate(job);
      if (job.state === "published" || job.state === "registered" || job.state === "failed") return job;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Queues a failed job again, signed for the job's file (an album's: every track). */
export async function resumeJob(job: UploadJob, sign: (message: string) => Promise<string>): Promise<UploadJob> {
  const message = uploadMessage(job.creator as Address, job.album ? job.album.tracks.map((t) => ({ size: t.size, sha256: t.sha256 })) : [{ size: job.size, sha256: job.sha256 }]);
  const signature = await sign(message);
  const res = await fetch(`/api/upload/jobs/${job.id}/resume`, { method: "POST", headers: signedRequestHeaders(message, signature) });
  const body = (await res.json().catch(() => ({}))) as { job?: UploadJob; error?: string };
  if (!res.ok || !body.job) throw new Error(body.error ?? `resume refused (${res.status})`);
  return body.job;
}

/** Tells the server the wallet registered the job's item (it checks the chain). */
export async function reportRegistered(id: string, txHash: Hex | undefined): Promise<void> {
  await fetch(`/api/upload/jobs/${id}/registered`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ txHash }) }).catch(() => {});
}

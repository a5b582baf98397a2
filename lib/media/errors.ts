import { StreamVaultError } from "../errors.ts";

/** Why a file was rejected at ingest. */
export type IngestFailureReason = "not-found" | "empty" | "too-large" | "too-long" | "unsupported" | "corrupt" | "truncated";

const ADVICE: Record<IngestFailureReason, string> = {
  "not-found": "check the path",
  empty: "the file has no bytes; re-export or re-download it",
  "too-large": "split it or raise the size limit (maxBytes, INGEST_MAX_BYTES)",
  "too-long": "split it into shorter items, or raise the duration limit (maxDurationSeconds, INGEST_MAX_SECONDS) on a server you run",
  unsupported: "upload an audio or video file (e.g. WAV, FLAC, MP3, AAC/M4A, OGG, MP4, MOV, MKV, WebM)",
  corrupt: "the file could not be decoded; re-export it from the source application",
  truncated: "the file ends early (incomplete download or copy); upload the complete file",
};

/**
 * The one error a rejected media file produces: names the file, the reason, and what to do.
 * `detail` carries the decoder's own words when there are any.
 */
export class MediaIngestError extends StreamVaultError {
  readonly file: string;
  readonly reason: IngestFailureReason;
  readonly detail: string;
  constructor(file: string, reason: IngestFailureReason, detail: string) {
    super("bad_input", `Cannot ingest "${file}": ${reason} (${detail}). What to do: ${ADVICE[reason]}.`);
    this.name = "MediaIngestError";
    this.file = file;
    this.reason = reason;
    this.detail = detail;
  }
}

/**
 * Media pipeline public API. Import from here:
 *   import { processMedia, publish, ingestMedia, MediaIngestError } from "../lib/media/index.ts";
 */
export * from "./errors.ts";
export * from "./ffmpeg.ts";
export * from "./probe.ts";
export * from "./transcode.ts";
export * from "./artwork.ts";
export * from "./pipeline.ts";
export * from "./wav.ts";
export * from "./release.ts";
export * from "./album.ts";

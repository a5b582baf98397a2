/**
 * Artwork thumbnails (sharp): from a given image, the embedded cover, or (video) a frame.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { runFfmpeg } from "./ffmpeg.ts";
import type { MediaInfo } from "./probe.ts";
import { StreamVaultError } from "../errors.ts";

/** Thumbnail widths produced by default. */
export const THUMBNAIL_SIZES = [600, 200] as const;

export interface Thumbnail {
  /** requested box size (px) */
  size: number;
  width: number;
  height: number;
  format: "jpeg";
  path: string;
  bytes: number;
}

/**
 * Make JPEG thumbnails that fit in size x size boxes (never upscaled).
 * Source: `imagePath` if given, else the embedded cover, else for video a frame at 1 s (or mid-point).
 * Returns [] when there is no usable picture (audio without cover).
 */
export async function makeThumbnails(info: MediaInfo, workDir: string, imagePath?: string, sizes: readonly number[] = THUMBNAIL_SIZES): Promise<Thumbnail[]> {
  // A cover the caller chose must be an image: its error sinks the upload (an embedded one's does not).
  if (imagePath !== undefined) return artworkThumbnails(imagePath, workDir, sizes);
  const dir = path.join(workDir, "artwork");
  await mkdir(dir, { recursive: true });
  let source: Uint8Array | undefined;
  if (info.picture !== undefined) source = info.picture.data;
  else if (info.kind === "video") {
    const frame = path.join(dir, "frame.png");
    const at = Math.min(1, info.duration / 2);
    await runFfmpeg(["-v", "error", "-y", "-ss", at.toFixed(3), "-i", info.file, "-map", "0:v:0", "-frames:v", "1", frame]);
    source = await readFile(frame);
  }
  if (source === undefined) return [];
  try {
    return await resizeAll(source, dir, sizes);
  } catch {
    // A broken embedded cover should not sink the track.
    return [];
  }
}

/** Thumbnails of a cover image the creator chose (upload or release edit); a file that is not an image is a bad_input error. */
export async function artworkThumbnails(imagePath: string, workDir: string, sizes: readonly number[] = THUMBNAIL_SIZES): Promise<Thumbnail[]> {
  const dir = path.join(workDir, "artwork");
  await mkdir(dir, { recursive: true });
  const source = await readFile(imagePath).catch((err: Error) => {
    throw new StreamVaultError("bad_input", `artwork ${imagePath} cannot be read: ${err.message}`);
  });
  try {
    return await resizeAll(source, dir, sizes);
  } catch (err) {
    throw new StreamVaultError("bad_input", `artwork ${imagePath} is not a readable image (JPEG, PNG or WebP): ${(err as Error).message}`);
  }
}

async function resizeAll(source: Uint8Array, dir: string, sizes: readonly number[]): Promise<Thumbnail[]> {
  const thumbnails: Thumbnail[] = [];
  for (const size of sizes) {
    const { data, info: out } = await sharp(source)
      .rotate()
      .resize(size, size, { fit: "inside", withoutEnlargement: true })
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    const file = path.join(dir, `thumb-${size}.jpg`);
    await writeFile(file, data);
    thumbnails.push({ size, width: out.width, height: out.height, format: "jpeg", path: file, bytes: data.length });
  }
  return thumbnails;
}

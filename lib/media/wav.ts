/**
 * RIFF/WAVE layout: where the samples start and how many bytes the header says they take.
 * ffmpeg quietly trusts the file size when the data chunk runs past the end of the file, so a WAV
 * cut short by an interrupted copy decodes "fine" as a shorter track; comparing the declared data
 * length with the bytes present is what tells it is incomplete.
 */
import { open } from "node:fs/promises";

/** What the header of a WAV (RIFF, RF64 or BW64) says about its sample data. */
export interface WavLayout {
  /** byte offset of the first sample */
  dataOffset: number;
  /** data length the header declares; undefined when the writer left it open (streamed WAV: 0 or 0xFFFFFFFF) */
  declaredDataBytes?: number;
  /** data bytes actually in the file (at most the declared length) */
  presentDataBytes: number;
  /** bytes per second of audio, from the fmt chunk (0 if absent) */
  byteRate: number;
  /** bytes per sample frame, from the fmt chunk (0 if absent) */
  blockAlign: number;
}

const UNKNOWN_SIZE = 0xffff_ffff;

/**
 * Read the chunk headers of a WAV file up to its data chunk (never the samples).
 * Returns undefined when the file is not RIFF/RF64/BW64 WAVE or has no data chunk.
 */
export async function readWavLayout(file: string): Promise<WavLayout | undefined> {
  const handle = await open(file, "r");
  try {
    const fileSize = (await handle.stat()).size;
    const read = async (position: number, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    };
    const riff = await read(0, 12);
    if (riff.length < 12 || riff.toString("latin1", 8, 12) !== "WAVE") return undefined;
    const magic = riff.toString("latin1", 0, 4);
    if (magic !== "RIFF" && magic !== "RF64" && magic !== "BW64") return undefined;
    const large = magic !== "RIFF";
    let byteRate = 0;
    let blockAlign = 0;
    let ds64DataBytes: number | undefined;
    // Chunks: 4-byte id, 4-byte little-endian size, payload padded to an even length.
    for (let pos = 12; pos + 8 <= fileSize; ) {
      const header = await read(pos, 8);
      if (header.length < 8) break;
      const id = header.toString("latin1", 0, 4);
      const size = header.readUInt32LE(4);
      const payload = pos + 8;
      if (id === "fmt " && size >= 16) {
        const fmt = await read(payload, 16);
        if (fmt.length === 16) {
          byteRate = fmt.readUInt32LE(8);
          blockAlign = fmt.readUInt16LE(12);
        }
      } else if (id === "ds64" && size >= 16) {
        // RF64/BW64: the real 64-bit sizes; the 32-bit fields say 0xFFFFFFFF.
        const ds64 = await read(payload, 16);
        if (ds64.length === 16) ds64DataBytes = Number(ds64.readBigUInt64LE(8));
      } else if (id === "data") {
        let declared: number | undefined = size;
        if (large && size === UNKNOWN_SIZE) declared = ds64DataBytes;
        else if (size === 0 || size === UNKNOWN_SIZE) declared = undefined;
        const available = Math.max(0, fileSize - payload);
        const layout: WavLayout = {
          dataOffset: payload,
          presentDataBytes: declared === undefined ? available : Math.min(available, declared),
          byteRate,
          blockAlign,
        };
        if (declared !== undefined) layout.declaredDataBytes = declared;
        return layout;
      }
      pos = payload + size + (size & 1);
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

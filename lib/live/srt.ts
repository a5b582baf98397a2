/**
 * SRT ingest: ffmpeg (built with libsrt) listens in SRT listener mode with the stream key as the
 * SRT passphrase, so a caller without the key fails the handshake before any media is accepted, and
 * the media is AES-encrypted on the wire (RTMP is not). The accepted caller's streams come out
 * unchanged as MPEG-TS, which the live pipeline reads as it reads an RTMP publisher's FLV.
 *
 * The passphrase reaches ffmpeg in its arguments (libsrt takes it no other way), so other users of
 * this machine could read it from the process list: run it on a machine you do not share.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import type { Readable } from "node:stream";
import { toolPath } from "../media/ffmpeg.ts";

/** SRT passphrases are 10-79 characters (libsrt); stream keys from newStreamKey() are 35. */
export const SRT_KEY = /^[A-Za-z0-9._-]{10,79}$/;

export interface SrtIngestOptions {
  host: string;
  port: number;
  /** the stream key, used as the SRT passphrase */
  key: string;
}

export interface SrtIngest {
  /** MPEG-TS of the accepted caller; ends when the caller disconnects or `close()` is called */
  ts: Readable;
  /** stops listening (and drops the caller); `ts` ends */
  close(): void;
  /** ffmpeg's exit: 0 after a caller's stream ended, else what it said */
  done: Promise<{ code: number; stderr: string }>;
}

/** The URL a publisher is given (OBS: Settings > Stream > Service Custom > Server). It carries the key. */
export function srtUrl(srt: { host?: string; port: number; key?: string }): string {
  return `srt://${srt.host ?? "127.0.0.1"}:${srt.port}${srt.key ? `?passphrase=${srt.key}` : ""}`;
}

/** Refuses a UDP port that is taken with what to do, before ffmpeg would fail on it with less to say. */
async function checkUdpPortFree(host: string, port: number): Promise<void> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === "EADDRINUSE" ? `SRT port ${host}:${port} is in use: pick another with --srt-port` : `cannot listen for SRT on ${host}:${port}: ${err.message}`)),
    );
    socket.bind(port, host, () => resolve());
  }).finally(() => {
    try {
      socket.close();
    } catch {
      // never bound
    }
  });
}

/** Listens for one SRT caller (mode=listener) and passes its streams on as MPEG-TS. */
export async function listenSrt(options: SrtIngestOptions): Promise<SrtIngest> {
  if (!SRT_KEY.test(options.key)) throw new RangeError("an SRT stream key (its passphrase) must be 10-79 characters of A-Z a-z 0-9 . _ -");
  await checkUdpPortFree(options.host, options.port);
  const url = `srt://${options.host}:${options.port}?mode=listener&passphrase=${options.key}`;
  const ff = spawn(toolPath("ffmpeg"), ["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-i", url, "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy", "-f", "mpegts", "pipe:1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  // ffmpeg repeats its input URL in errors: the key is cut out of anything kept or shown
  ff.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString().split(options.key).join("<stream key>")).slice(-4000)));
  const done = new Promise<{ code: number; stderr: string }>((resolve) => ff.once("close", (code) => resolve({ code: code ?? -1, stderr })));
  return {
    ts: ff.stdout!,
    close: () => {
      if (ff.exitCode === null) ff.kill("SIGTERM");
    },
    done,
  };
}

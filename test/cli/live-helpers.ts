/** Helpers of the live tests: RTMP and SRT publishers (ffmpeg, real time) and the pieces a playlist names. */
import { spawn } from "node:child_process";
import { toolPath } from "@streamvault/lib/media/ffmpeg.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pushes `seconds` of a generated test picture (default 320x240) with a tone to `url` at real speed
 * (`-re`), as OBS would. Retries the connection until the listening ffmpeg is up (for at most 45 s).
 */
export function pushRtmp(url: string, seconds: number, size = "320x240"): Push {
  return push(url, seconds, size, "flv", /Connection refused/);
}

/** As pushRtmp, over SRT as a caller (MPEG-TS; the URL carries ?passphrase=<stream key>). */
export function pushSrt(url: string, seconds: number, size = "320x240"): Push {
  // no listener yet: the SRT handshake times out (UDP has no refusal)
  return push(url, seconds, size, "mpegts", /connection timed out|Connection refused/i);
}

interface Push {
  done: Promise<number>;
  exitCode(): number | undefined;
  kill(): void;
  stderr(): string;
}

function push(url: string, seconds: number, size: string, muxer: string, notListening: RegExp): Push {
  let exit: number | undefined;
  let stderr = "";
  let child: ReturnType<typeof spawn> | undefined;
  let killed = false;
  const done = (async () => {
    for (const deadline = Date.now() + 45_000; ; ) {
      let attempt = "";
      child = spawn(
        toolPath("ffmpeg"),
        ["-hide_banner", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", `testsrc=size=${size}:rate=15:duration=${seconds}`, "-f", "lavfi", "-i", `sine=f=440:duration=${seconds}`,
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-f", muxer, url],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      child.stderr!.on("data", (d: Buffer) => {
        attempt += d.toString();
        stderr = (stderr + d.toString()).slice(-2000);
      });
      const code = await new Promise<number>((r) => child!.once("close", (c) => r(c ?? 1)));
      // The server is not listening yet.
      if (code !== 0 && !killed && notListening.test(attempt) && Date.now() < deadline) {
        await sleep(300);
        continue;
      }
      exit = code;
      return code;
    }
  })();
  return {
    done,
    exitCode: () => exit,
    stderr: () => stderr,
    kill: () => {
      killed = true;
      child?.kill("SIGKILL");
    },
  };
}

/** PieceCIDs a media playlist names, in order (URIs end with the PieceCID, optionally ?query). */
export function playlistCids(playlist: string): string[] {
  return playlist
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => decodeURIComponent(l.split("?")[0]!.split("/").pop()!));
}

/** The stream key `streamvault live --rtmp --json` prints once in its start event (polls the output until it is there). */
export async function streamKeyOf(run: { output(): string }, timeoutMs = 30_000): Promise<string> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    for (const line of run.output().split("\n")) {
      if (!line.startsWith("{")) continue;
      const event = JSON.parse(line) as { event?: string; streamKey?: string };
      if (event.event === "start" && event.streamKey) return event.streamKey;
    }
  }
  throw new Error(`no stream key printed: ${run.output()}`);
}

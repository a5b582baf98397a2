/**
 * Locating and running ffmpeg/ffprobe.
 * Order: FFMPEG_PATH / FFPROBE_PATH, then the system binary (/usr/bin, then PATH),
 * then the npm-shipped binaries (@ffmpeg-installer/ffmpeg, @ffprobe-installer/ffprobe, optional deps).
 */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export type MediaTool = "ffmpeg" | "ffprobe";

const resolved = new Map<MediaTool, string>();

/** Absolute path of ffmpeg or ffprobe for this process's environment, resolved once. Throws with install advice when none is found. */
export function toolPath(tool: MediaTool): string {
  const cached = resolved.get(tool);
  if (cached !== undefined) return cached;
  const found = resolveToolPath(tool, process.env);
  resolved.set(tool, found);
  return found;
}

/** Resolve ffmpeg/ffprobe for a given environment (no caching): env override, system, then npm-shipped binary. */
export function resolveToolPath(tool: MediaTool, env: NodeJS.ProcessEnv): string {
  const override = env[tool === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"];
  if (override) {
    if (!isExecutable(override)) throw new Error(`${tool === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"}=${override} is not an executable file`);
    return override;
  }
  const candidates = [`/usr/bin/${tool}`, ...(env.PATH ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, tool))];
  for (const candidate of candidates) if (isExecutable(candidate)) return candidate;
  const require = createRequire(import.meta.url);
  try {
    const pkg = require(tool === "ffmpeg" ? "@ffmpeg-installer/ffmpeg" : "@ffprobe-installer/ffprobe") as { path: string };
    if (isExecutable(pkg.path)) return pkg.path;
  } catch {
    // optional dependency absent on this platform: fall through to the error below
  }
  throw new Error(`${tool} not found: install it (e.g. apt-get install ffmpeg) or set ${tool === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"}`);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Run ffmpeg/ffprobe with arguments (no shell). Resolves with exit code and output; never throws on a non-zero exit. */
export function runTool(tool: MediaTool, args: string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(toolPath(tool), args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

/** Run ffmpeg and throw with its last stderr lines when it fails. */
export async function runFfmpeg(args: string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  const result = await runTool("ffmpeg", ["-hide_banner", "-nostdin", ...args], options);
  if (result.code !== 0) {
    throw new Error(`ffmpeg failed (exit ${result.code}): ${lastLines(result.stderr, 5)}`);
  }
  return result;
}

/** The last `n` non-empty lines of a tool's stderr, for error messages. */
export function lastLines(text: string, n: number): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-n).join(" | ");
}

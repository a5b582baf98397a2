/**
 * One chain + one uploaded catalogue shared by the CLI suites in a mocha process (anvil start,
 * deployment, ffmpeg and the key store's first start are the slow parts). Torn down at exit.
 */
import { rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import sharp from "sharp";
import path from "node:path";
import type { Hex } from "viem";
import { cliEnv, killAllChildren, makeCorrupt, makeTone, runCli, startTestChain, tempDir } from "./helpers.ts";
import type { CliRun, TestChain } from "./helpers.ts";

export interface Fixture {
  dir: string;
  home: string;
  album: string;
  chain: TestChain;
  env: NodeJS.ProcessEnv;
  /** the first upload run of the album (4 tones + 1 corrupt file) */
  firstRun: CliRun;
  summary: UploadSummaryJson;
  contentIds: Hex[];
}

export interface UploadSummaryJson {
  succeeded: number;
  failed: number;
  total: number;
  alreadyDone: number;
  totalBytes: number;
  piecesUploaded: number;
  durationMs: number;
  items: { file: string; ok: boolean; contentId?: Hex; manifestCid?: string; txHash?: Hex; error?: string; alreadyDone: boolean }[];
}

let fixture: Promise<Fixture> | undefined;
const cleanups: (() => void)[] = [];

function cleanupAll(): void {
  killAllChildren();
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {
      // best effort
    }
  }
  fixture = undefined;
}

// Root-level hook: runs once after every suite of the run (also after failures), so anvil and
// CLI children never outlive the tests; the exit handler covers an aborted run.
after(cleanupAll);
process.once("exit", cleanupAll);

/** Register cleanup to run when the test process exits (also after failures). */
export function atExit(fn: () => void): void {
  cleanups.push(fn);
}

/** A fresh anvil + deployment in a temp dir, torn down at exit. */
export async function freshChain(prefix: string): Promise<{ dir: string; chain: TestChain; dispose(): void }> {
  const dir = await tempDir(prefix);
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  atExit(removeDir);
  const chain = await startTestChain(dir);
  const stopChain = () => chain.anvil.process.kill("SIGKILL");
  atExit(stopChain);
  return {
    dir,
    chain,
    dispose: () => {
      stopChain();
      removeDir();
    },
  };
}

export function getFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const { dir, chain } = await freshChain("sv-cli-");
    const album = path.join(dir, "album");
    await Promise.all([
      makeTone(path.join(album, "01-intro.wav"), 6, 330),
      makeTone(path.join(album, "02-song.wav"), 8, 440),
      makeTone(path.join(album, "03-outro.flac"), 5, 550),
    ]);
    await makeCorrupt(path.join(album, "04-broken.wav"));
    const covers = path.join(dir, "covers");
    await mkdir(covers, { recursive: true });
    await sharp({ create: { width: 700, height: 700, channels: 3, background: { r: 20, g: 120, b: 200 } } }).png().toFile(path.join(covers, "02-song.png"));
    const home = path.join(dir, "home");
    const env = cliEnv(chain, home);
    const firstRun = await runCli(["upload", album, "--tier", "premium", "--price", "0.01", "--price-per-minute", "0.0001", "--artwork-dir", covers, "--json"], env);
    let summary: UploadSummaryJson;
    try {
      summary = JSON.parse(firstRun.stdout) as UploadSummaryJson;
    } catch {
      throw new Error(`upload did not print a JSON summary (exit ${firstRun.code}):\n${firstRun.stdout}\n${firstRun.stderr}`);
    }
    const contentIds = summary.items.filter((i) => i.ok).map((i) => i.contentId!);
    return { dir, home, album, chain, env, firstRun, summary, contentIds };
  })();
  return fixture;
}

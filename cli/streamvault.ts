/**
 * StreamVault creator CLI. Run with `bin/streamvault <command>` or `npm run streamvault -- <command>`.
 * Exit codes: 0 ok, 1 some items failed, 2 usage error, 3 chain/storage unreachable,
 * 4 not found / no access, 5 integrity check failed, 6 another upload is running.
 */
import { Command, CommanderError, Option } from "commander";
import { exitCodeOf } from "@streamvault/lib/errors.ts";
import { TIER_NAMES } from "@streamvault/lib/deployments/contract-types.ts";
import { EXIT } from "./context.ts";
// Commands load their modules on use, so `--help` and usage errors answer fast.
type UploadModule = typeof import("./commands/upload.ts");
type ContentModule = typeof import("./commands/content.ts");
type BackupModule = typeof import("./commands/backup.ts");
type LiveModule = typeof import("./commands/live.ts");
type PassModule = typeof import("./commands/pass.ts");
type PieceModule = typeof import("./commands/piece.ts");
type StreamPriceModule = typeof import("./commands/stream-price.ts");
type OptimizeModule = typeof import("./commands/optimize.ts");
type KeysModule = typeof import("./commands/keys.ts");
const keysModule = (): Promise<KeysModule> => import("./commands/keys.ts");
const upload = (): Promise<UploadModule> => import("./commands/upload.ts");
const content = (): Promise<ContentModule> => import("./commands/content.ts");
const backup = (): Promise<BackupModule> => import("./commands/backup.ts");
const live = (): Promise<LiveModule> => import("./commands/live.ts");
const pass = (): Promise<PassModule> => import("./commands/pass.ts");
const piece = (): Promise<PieceModule> => import("./commands/piece.ts");
const streamPrice = (): Promise<StreamPriceModule> => import("./commands/stream-price.ts");
type StorageModule = typeof import("./commands/storage.ts");
const storage = (): Promise<StorageModule> => import("./commands/storage.ts");
const optimize = (): Promise<OptimizeModule> => import("./commands/optimize.ts");

/** The pricing flags uploads and live streams share (a fresh Option per command). */
const PRICE_OPTIONS = [
  () => new Option("--price <amount>", "price per access period in the payment token (decimal, e.g. 0.01)"),
  () => new Option("--price-per-minute <amount>", "pay-per-minute streaming price in the payment token (decimal, e.g. 0.0001; 0 = not offered per minute)"),
  () => new Option("--token <address>", 'payment token: "native" (default) or an allow-listed ERC-20 address'),
] as const;

const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  some items failed (re-run the same command to retry; finished items are skipped)
  2  usage error (bad option, missing file, invalid metadata)
  3  chain or storage unreachable, or no deployment for the chain
  4  not found, or the wallet has no access
  5  integrity check failed (hash mismatch against the chain, tampered data)
  6  another upload is running in the same data directory

Environment:
  RPC_URL               chain JSON-RPC (default http://127.0.0.1:8545)
  CREATOR_PRIVATE_KEY   creator wallet key (default: local dev key #1; never printed)
  STREAMVAULT_HOME      data directory (default ./.streamvault): journal, keys, local pieces, backups
  STORAGE_BACKEND       local (default), synapse, or a set such as synapse+s3+ipfs or local+local-disk2 (see lib/storage)
  STORAGE_LOCAL_<NAME>_DIR  directory of a local-<name> backend (another disk holding copies; placement: streamvault optimize)
  STREAMVAULT_MASTER_KEY  64 hex chars sealing content keys (default: generated in <home>/keys)`;

function program(): Command {
  const p = new Command("streamvault")
    .description("StreamVault creator tool: upload, register, back up and archive your catalogue")
    .option("--home <dir>", "data directory (default $STREAMVAULT_HOME or ./.streamvault)")
    .option("--rpc-url <url>", "chain JSON-RPC URL (default $RPC_URL or http://127.0.0.1:8545)")
    .addHelpText("after", EXIT_CODES_HELP)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const global = (cmd: Command) => cmd.optsWithGlobals();

  p.command("upload")
    .description("process, encrypt, store and register a media file or every media file in a folder (resumable)")
    .argument("<path...>", "media files or folders (with --as-album: the tracks, in order)")
    .option("--artwork <file>", "cover image (JPEG, PNG, WebP) for every file, instead of the embedded one")
    .option("--artwork-dir <dir>", "cover images named like the tracks (song.wav -> song.jpg/png)")
    .option("--title <title>", "release title (one file; default: the file's title tag, else its file name)")
    .option("--artist <name>", "artist (default: the file's artist tag)")
    .option("--album <name>", "album (default: the file's album tag)")
    .option("--as-album <title>", "upload the files as ONE album/EP release: one content id, price and channel; tracks in the order given (folders: sorted by name)")
    .option("--track <n>", "track number (one file; default: the file's track tag)")
    .option("--description <text>", "the release's description")
    .option("--preview-start <seconds>", "where the free 30 s preview starts (default 0)")
    .option("--metadata <file>", 'JSON with per-file settings: {"defaults":{...},"items":{"song.wav":{"tier":"exclusive","price":"0.02","collaborators":[{"account":"0x..","shareBps":2000}]}}}')
    .addOption(new Option("--tier <tier>", "access tier for every file").choices(TIER_NAMES))
    .addOption(PRICE_OPTIONS[0]())
    .addOption(PRICE_OPTIONS[1]())
    .addOption(PRICE_OPTIONS[2]())
    .option("--free-standard", "premium/exclusive: give the standard (192k) stream away in the clear; without it only the 30 s preview is free")
    .option("--concurrency <n>", "files processed at once", "2")
    .option("--retries <n>", "retries per storage write / transaction", "4")
    .option("--json", "print only the JSON summary")
    .addHelpText("after", "\nExamples:\n  streamvault upload ./album --tier premium --price 0.01 --price-per-minute 0.0001\n  streamvault upload song.flac --metadata meta.json --json\n  streamvault upload --as-album \"Night Drive\" 01.flac 02.flac 03.flac --tier premium --price 0.02\nKilled or failed? Run the same command again: it resumes from .streamvault/uploads/journal.json.")
    .action(async (inputs: string[], _o, cmd: Command) => {
      process.exitCode = await (await upload()).uploadCommand(inputs, global(cmd));
    });

  p.command("status")
    .description("show an item's on-chain registration, rules, storage and local state")
    .argument("<contentId>", "0x content id (see `streamvault list`)")
    .option("--json", "JSON output")
    .action(async (id: string, _o, cmd: Command) => {
      process.exitCode = await (await content()).statusCommand(id, global(cmd));
    });

  p.command("get")
    .description("fetch an item from storage, verify every piece and decrypt it when this wallet has access")
    .argument("<contentId>", "0x content id")
    .requiredOption("--out <file>", "where to write the media (HLS variants are written as MPEG-TS)")
    .option("--variant <name>", "variant to fetch (default: best available: original, high, standard, preview)")
    .option("--json", "JSON output")
    .action(async (id: string, _o, cmd: Command) => {
      process.exitCode = await (await content()).getCommand(id, global(cmd));
    });

  p.command("edit")
    .description("rename a release or change its artist, album, track number, description or cover: a new manifest over the same media, put on chain with updateManifest")
    .argument("<contentId>", "0x content id (see `streamvault list`)")
    .option("--title <title>", "new title")
    .option("--artist <name>", 'new artist ("" removes it)')
    .option("--album <name>", 'new album ("" removes it)')
    .option("--track <n>", "new track number (0 removes it)")
    .option("--description <text>", 'new description ("" removes it)')
    .option("--artwork <file>", "new cover image (JPEG, PNG, WebP)")
    .option("--track-title <n=title>", 'an album: rename track n (repeat for several), e.g. --track-title "2=Neon Rain"', (value: string, previous: string[] = []) => [...previous, value])
    .option("--json", "JSON output")
    .addHelpText("after", '\nExample:\n  streamvault edit 0x976e… --title "Night Drive" --artist "The Band" --artwork cover.jpg\n  streamvault edit 0x976e… --track-title "2=Neon Rain"')
    .action(async (id: string, _o, cmd: Command) => {
      process.exitCode = await (await content()).editCommand(id, global(cmd));
    });

  p.command("list")
    .description("list the items in the local catalogue (upload journal)")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await content()).listCommand(global(cmd));
    });

  p.command("cost")
    .description("monthly storage cost per item and for the whole catalogue, with placement suggestions")
    .option("--plays <n>", "expected plays per month for every item", "10")
    .option("--plays-file <file>", 'JSON {"<contentId>": playsPerMonth} overriding --plays per item')
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await content()).costCommand(global(cmd));
    });

  p.command("optimize")
    .description("placement per item from its tier and real plays: copies per tier (exclusive 3, backups 5), CDN for hot items, fewer copies for cold ones; dry run unless --apply")
    .option("--apply", "carry the moves out and journal them in <home>/placement/journal.jsonl")
    .option("--plays-url <url>", "key-release server counting plays (default STREAMVAULT_PLAYS_URL, else <home>/plays-source.json; else <home>/plays.json)")
    .option("--hot <plays>", "plays per month from which an item is hot (CDN)", "100")
    .option("--cold <plays>", "plays per month under which an item is cold (tier floor)", "5")
    .option("--window-days <days>", "days of plays the decision looks at", "30")
    .option("--json", "JSON output")
    .addHelpText("after", "\nExamples:\n  streamvault optimize            # prints the plan with the monthly saving of each move\n  streamvault optimize --apply    # carries it out; running it again changes nothing")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await optimize()).optimizeCommand(global(cmd));
    });

  p.command("stream-price")
    .description("set an item's pay-per-minute price (0 withdraws it); channels below it cannot be opened")
    .argument("<contentId>", "0x + 64 hex (see `streamvault list`)")
    .argument("<amount>", "price per minute in the token (decimal, e.g. 0.0001)")
    .option("--token <address>", 'payment token: "native" (default) or an allow-listed ERC-20 address')
    .option("--json", "JSON output")
    .action(async (id: string, amount: string, _o, cmd: Command) => {
      process.exitCode = await (await streamPrice()).streamPriceCommand(id, amount, global(cmd));
    });

  p.command("piece-cid")
    .description("PieceCID v2 of local files, as storage will address them (streamed; native SHA extensions when built)")
    .argument("<files...>", "files of 127 B to 1,065,353,216 B")
    .option("--pad", "zero-pad files under 127 bytes (the CID is then of the padded bytes)")
    .option("--json", "JSON output")
    .action(async (files: string[], _o, cmd: Command) => {
      process.exitCode = await (await piece()).pieceCidCommand(files, global(cmd));
    });

  const storageCmd = p.command("storage").description("storage backends (STORAGE_BACKEND): counters and health");
  storageCmd
    .command("status")
    .description("per backend: pieces, bytes, reads, failures, repairs, read latency p50/p99, circuit breaker state")
    .option("--json", "JSON output (the same report as /api/storage/status)")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await storage()).storageStatusCommand(global(cmd));
    });

  p.command("backup")
    .description("snapshot the whole catalogue (profile, items, manifests, rules, earnings, stats), store it and anchor its SHA-256 on BackupRegistry")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await backup()).backupCommand(global(cmd));
    });

  p.command("restore")
    .description("fetch the latest (or a named) anchored snapshot, check its SHA-256 against the chain, rebuild the local catalogue and, from the escrow, the key store (signs with the creator's wallet)")
    .option("--piece-cid <cid>", "restore this anchored snapshot instead of the latest")
    .option("--creator <address>", "restore this creator's snapshot (default: the wallet's); its escrowed keys open only with that creator's wallet")
    .option("--no-keys", "rebuild the catalogue only, not the key store from the snapshot's escrow")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await backup()).restoreCommand(global(cmd));
    });

  const keys = p.command("keys").description("content-key custody: escrow to your wallet, status, master-key rotation");
  keys.command("escrow")
    .description("sign the key-escrow message with the wallet and seal every stored content key (and each new upload's) to the key it derives; backups then carry them")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await keysModule()).keysEscrowCommand(global(cmd));
    });
  keys.command("status")
    .description("how many of the wallet's stored content keys are escrowed")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await keysModule()).keysStatusCommand(global(cmd));
    });
  keys.command("rotate-master-key")
    .description("re-seal every stored content key under a new master key, all or nothing; the key comes from --new-key-file or STREAMVAULT_NEW_MASTER_KEY and is never printed")
    .option("--new-key-file <file>", "file holding the new master key (64 hex characters)")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await keysModule()).rotateMasterKeyCommand(global(cmd));
    });

  p.command("export")
    .description("write a portable package (manifests, download URLs, tags; plays-per-day, sales, credits, withdrawals and holders CSVs; coin/pass/contract addresses; MIGRATION.md) and store it as a piece")
    .requiredOption("--out <dir>", "output directory")
    .option("--gateway-url <url>", "base URL of a piece gateway for download links (default $STORAGE_PUBLIC_URL)")
    .option("--plays-url <url>", "key-release server counting plays, for plays-per-day.csv (default STREAMVAULT_PLAYS_URL, else <home>/plays-source.json)")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await backup()).exportCommand(global(cmd) as Parameters<BackupModule["exportCommand"]>[0]);
    });

  p.command("watch")
    .description("anchor backups automatically when a milestone is crossed (plays, revenue, coin/pass holders) and once per quarter, then apply the placement policy")
    .option("--once", "check once and exit")
    .option("--interval <seconds>", "seconds between checks", "300")
    .option("--config <file>", "milestone thresholds JSON (default <home>/milestones.json)")
    .option("--plays-url <url>", "key-release server counting plays (default STREAMVAULT_PLAYS_URL, else <home>/plays-source.json from npm run dev; else <home>/plays.json)")
    .option("--no-placement", "do not apply the placement policy (streamvault optimize --apply) after each check")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await backup()).watchCommand(global(cmd));
    });

  p.command("live")
    .description("go live: registers the item as the stream starts, stores 2 s segments as they are cut and grows an HLS EVENT playlist fans watch; the same pieces become the VOD when it ends")
    .argument("[input]", "growing media file, or - for stdin (or --rtmp / --srt)")
    .option("--rtmp", "receive from OBS or any RTMP encoder on rtmp://127.0.0.1:<port>/live; a random stream key is printed once and publishers without it are refused")
    .option("--rtmp-port <port>", "RTMP port", "1935")
    .option("--rtmp-host <address>", "address the RTMP server listens on (0.0.0.0 for OBS on another machine: the stream key is then all that keeps others out, and RTMP is not encrypted, so use a trusted network)", "127.0.0.1")
    .option("--rtmp-key <key>", "use this stream key (16-128 characters) instead of a random one, e.g. the one saved in OBS")
    .option("--srt", "receive from OBS or any SRT encoder as an SRT listener on srt://127.0.0.1:<port>; the stream key is the SRT passphrase (printed once): callers without it fail the handshake, and the media is encrypted on the wire")
    .option("--srt-port <port>", "SRT port (UDP)", "9000")
    .option("--srt-host <address>", "address the SRT listener binds (0.0.0.0 for OBS on another machine)", "127.0.0.1")
    .option("--srt-key <key>", "use this stream key / SRT passphrase (10-79 characters) instead of a random one; needed again to continue an SRT stream")
    .option("--finalize <id>", "end a stream whose encoder never came back (interrupted): store what was cut and set the VOD")
    .option("--id <name>", "stream id (default: live-<time>); an interrupted stream continues under its id")
    .option("--title <title>", "title")
    .addOption(new Option("--tier <tier>", "access tier").choices(TIER_NAMES).default("premium"))
    .addOption(PRICE_OPTIONS[0]())
    .addOption(PRICE_OPTIONS[1]())
    .addOption(PRICE_OPTIONS[2]())
    .option("--segment-seconds <s>", "segment length", "2")
    .option("--renditions <list>", "video ladder: heights of 1080,720,480,360 and audio (audio-only), comma-separated; rungs taller than the source are skipped; audio input is always 320k + 192k (default: STREAMVAULT_LIVE_RENDITIONS or 720,360,audio)")
    .option("--preset <preset>", "x264 preset of the video rungs (ultrafast..medium); faster presets keep more rungs real time on few cores", "veryfast")
    .option("--idle-timeout <s>", "input that brings no media for this long has ended", "10")
    .option("--retries <n>", "retries per segment write", "8")
    .option("--json", "print JSON events")
    .addHelpText("after", "\nExamples:\n  streamvault live --rtmp --id gig --title \"Friday gig\"      # OBS: server rtmp://127.0.0.1:1935/live, the printed stream key\n  streamvault live --srt --id gig                          # OBS: server srt://127.0.0.1:9000?passphrase=<the printed key>\n  streamvault live ./recording.ts --id gig\n  streamvault live --finalize gig")
    .action(async (input: string | undefined, _o, cmd: Command) => {
      process.exitCode = await (await live()).liveCommand(input, global(cmd));
    });

  p.command("live-status")
    .description("show a live stream's state (starting, live, ended, interrupted), stored segments, bytes, failed writes and the segment table")
    .argument("<id>", "archive id")
    .option("--json", "JSON output")
    .action(async (id: string, _o, cmd: Command) => {
      process.exitCode = await (await live()).liveStatusCommand(id, global(cmd));
    });

  p.command("pass-metadata")
    .description("store the creator pass's ERC-721 metadata JSON and image as pieces and point CreatorPass.setMetadataURI at the gateway")
    .requiredOption("--image <file>", "pass image (PNG/JPEG/WebP/GIF)")
    .requiredOption("--name <name>", "pass name")
    .option("--description <text>", "pass description", "")
    .option("--gateway-url <url>", "public gateway base URL serving /piece/<cid> (default $STORAGE_PUBLIC_URL)")
    .option("--json", "JSON output")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await (await pass()).passMetadataCommand(global(cmd) as Parameters<PassModule["passMetadataCommand"]>[0]);
    });

  for (const c of p.commands) c.exitOverride().showHelpAfterError("(run with --help for usage)");
  return p;
}

async function main(argv: string[]): Promise<number> {
  const p = program();
  try {
    await p.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.OK;
      return EXIT.USAGE;
    }
    // A StreamVaultError (CliError or one from the library) names its exit code; anything else exits 1.
    console.error(`streamvault: ${(err as Error)?.message ?? String(err)}`);
    return exitCodeOf(err);
  }
}

// A closed pipe (e.g. `streamvault --help | head`) is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
});
const code = await main(process.argv);
process.exitCode = code;
// PGlite/viem may keep handles open; the command is finished.
setTimeout(() => process.exit(code), 50).unref();

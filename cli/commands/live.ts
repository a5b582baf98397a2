/** `live [input] | --rtmp | --srt | --finalize <id>` and `live-status <id>`. */
import path from "node:path";
import { existsSync } from "node:fs";
import { LIVE_ID, archiveLive, finalizeLive, liveStatus, readLiveState, rtmpUrl } from "@streamvault/lib/live/archiver.ts";
import { hashStreamKey, newStreamKey } from "@streamvault/lib/live/rtmp.ts";
import { SRT_KEY, srtUrl } from "@streamvault/lib/live/srt.ts";
import type { LiveChunk, LiveState } from "@streamvault/lib/live/archiver.ts";
import { CliError, EXIT, table, formatBytes, homeDir, openChain, openKeys, openStore, toJson } from "../context.ts";
import type { GlobalOptions } from "../context.ts";
import { itemSettings } from "./upload.ts";
import { LIVE_RENDITIONS_ENV, parseRenditions } from "@streamvault/lib/live/ladder.ts";
import { liveStateOnChain } from "@streamvault/lib/catalog/chain/live.ts";

const X264_PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"];

export interface LiveOptions extends GlobalOptions {
  id?: string;
  title?: string;
  tier?: string;
  price?: string;
  pricePerMinute?: string;
  token?: string;
  rtmp?: boolean;
  rtmpPort?: string;
  rtmpHost?: string;
  rtmpKey?: string;
  srt?: boolean;
  srtPort?: string;
  srtHost?: string;
  srtKey?: string;
  finalize?: string;
  segmentSeconds?: string;
  renditions?: string;
  preset?: string;
  idleTimeout?: string;
  retries?: string;
  json?: boolean;
}

function num(value: string | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n >= min && n <= max) || !Number.isFinite(n)) throw new CliError(`${name} must be a number from ${min} to ${max}, got "${value}"`, "bad_input");
  return n;
}

export async function liveCommand(input: string | undefined, opts: LiveOptions): Promise<number> {
  if (opts.finalize !== undefined) return finalizeCommand(opts.finalize, opts);
  if (opts.rtmp && opts.srt) throw new CliError("pass either --rtmp or --srt, not both", "bad_input");
  if ((opts.rtmp || opts.srt) && input !== undefined) throw new CliError(`pass either an input (${input}) or --${opts.rtmp ? "rtmp" : "srt"}, not both`, "bad_input");
  if (!opts.rtmp && !opts.srt && input === undefined) throw new CliError("pass a growing media file, - for stdin, or --rtmp / --srt to receive from OBS or any encoder", "bad_input");
  if (input !== undefined && input !== "-" && !existsSync(input)) throw new CliError(`${input} does not exist: pass a growing media file, - to read stdin, or --rtmp / --srt`, "bad_input");
  const id = opts.id ?? `live-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  if (!LIVE_ID.test(id)) throw new CliError(`--id "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`, "bad_input");
  if (opts.rtmpKey !== undefined && !/^[A-Za-z0-9._-]{16,128}$/.test(opts.rtmpKey)) throw new CliError(`--rtmp-key must be 16-128 characters of A-Z a-z 0-9 . _ - (leave it out to get a random one)`, "bad_input");
  if (opts.srtKey !== undefined && !SRT_KEY.test(opts.srtKey)) throw new CliError("--srt-key must be 10-79 characters of A-Z a-z 0-9 . _ - (SRT passphrases are; leave it out to get a random one)", "bad_input");
  const segmentSeconds = num(opts.segmentSeconds, "--segment-seconds", 2, 1, 60);
  const renditions = opts.renditions ?? process.env[LIVE_RENDITIONS_ENV];
  if (renditions !== undefined) {
    try {
      parseRenditions(renditions); // a typo fails now, not when the publisher connects
    } catch (err) {
      throw new CliError(`${opts.renditions !== undefined ? "--renditions" : LIVE_RENDITIONS_ENV}: ${(err as Error).message}`, "bad_input");
    }
  }
  if (opts.preset !== undefined && !X264_PRESETS.includes(opts.preset)) throw new CliError(`--preset must be one of ${X264_PRESETS.join(", ")}, got "${opts.preset}"`, "bad_input");
  const idle = num(opts.idleTimeout, "--idle-timeout", 10, 0.5);
  const retries = num(opts.retries, "--retries", 8, 0, 100);
  const home = homeDir(opts);
  const existing = readLiveState(home, id);
  if (existing && existing.status !== "failed" && existing.status !== "interrupted") throw new CliError(`live stream "${id}" already exists (${existing.status}); pick another --id`, "bad_input");
  // A new stream gets a random stream key, shown once below; a continued one keeps its key (only its hash is on disk).
  const newKey = opts.rtmp && opts.rtmpKey === undefined && !existing?.rtmpKeyHash ? newStreamKey() : undefined;
  const rtmp = opts.rtmp ? { port: num(opts.rtmpPort, "--rtmp-port", 1935, 1, 65535), host: opts.rtmpHost ?? "127.0.0.1", key: opts.rtmpKey ?? newKey } : undefined;
  // SRT: the key is the passphrase ffmpeg listens with, so a continued stream needs it again (only its hash is on disk).
  if (opts.srt && opts.srtKey === undefined && existing?.srtKeyHash) throw new CliError(`continuing SRT stream "${id}" needs its key: pass --srt-key with the key shown when it was created`, "bad_input");
  if (opts.srt && opts.srtKey !== undefined && existing?.srtKeyHash && hashStreamKey(opts.srtKey) !== existing.srtKeyHash) throw new CliError(`that is not the SRT key of live stream "${id}": pass the key shown when it was created`, "bad_input");
  const newSrtKey = opts.srt && opts.srtKey === undefined ? newStreamKey() : undefined;
  const srt = opts.srt ? { port: num(opts.srtPort, "--srt-port", 9000, 1, 65535), host: opts.srtHost ?? "127.0.0.1", key: (opts.srtKey ?? newSrtKey)! } : undefined;
  if (existing && !opts.json) console.log(`continuing ${existing.status} stream ${id}: ${existing.chunks.filter((c) => c.status === "uploaded").length} chunks already stored`);
  const chain = await openChain(opts);
  const settings = await itemSettings({}, opts, chain, new Map(), "live");
  const store = openStore(home);
  const keyStore = await openKeys(home);
  const print = (c: LiveChunk) => {
    if (opts.json) console.log(JSON.stringify({ event: "chunk", ...c }));
    else console.log(`chunk ${String(c.index).padStart(4)} ${c.status.padEnd(9)} ${c.duration.toFixed(1)} s${c.storedSize ? ` ${formatBytes(c.storedSize)}` : ""}${c.pieceCid && c.status === "uploaded" ? ` ${c.pieceCid}` : ""}${c.error && c.status !== "uploaded" ? ` (${c.error})` : ""}`);
  };
  const onRefused = (reason: string) => {
    if (opts.json) console.log(JSON.stringify({ event: "refused", reason }));
    else console.log(`refused an RTMP publisher: ${reason}`);
  };
  const onStatus = (s: LiveState) => {
    if (opts.json) console.log(JSON.stringify({ event: "status", ...liveStatus(s) }));
    else if (s.status === "recording" && s.liveManifestCid) console.log(`live: content ${s.contentId} registered (manifest ${s.liveManifestCid}); fans can watch now`);
  };
  if (opts.json) console.log(JSON.stringify({ event: "start", id, input: rtmp ? rtmpUrl(rtmp) : srt ? srtUrl({ host: srt.host, port: srt.port }) : input, ...(newKey ? { streamKey: newKey } : newSrtKey ? { streamKey: newSrtKey } : {}) }));
  else if (rtmp) {
    console.log(`live stream ${id}: waiting for an RTMP publisher at ${rtmpUrl(rtmp)}, ${segmentSeconds} s segments`);
    if (newKey) console.log(`stream key (shown once, keep it secret; OBS: Settings > Stream > Service Custom, Server ${rtmpUrl(rtmp)}, Stream Key): ${newKey}`);
    else console.log(`stream key: the one ${opts.rtmpKey ? "passed with --rtmp-key" : "shown when this stream was created"}`);
  } else if (srt) {
    console.log(`live stream ${id}: waiting for an SRT caller at ${srtUrl({ host: srt.host, port: srt.port })} (encrypted with the stream key), ${segmentSeconds} s segments`);
    if (newSrtKey) console.log(`stream key (shown once, keep it secret; OBS: Settings > Stream > Service Custom, Server ${srtUrl(srt)}, Stream Key empty): ${newSrtKey}`);
    else console.log("stream key: the one passed with --srt-key");
  }
  else console.log(`live stream ${id}: reading ${input === "-" ? "stdin" : input}, ${segmentSeconds} s segments`);
  // Ctrl-C ends the stream cleanly (the last segment is closed, stored and the VOD set); a second one exits at once.
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    const state = await archiveLive({
      input: input ?? "-",
      rtmp,
      srt,
      id,
      title: opts.title,
      tier: settings.tier,
      rules: settings.rules,
      streamPrice: settings.streamPrice,
      home,
      store,
      keyStore,
      chain,
      segmentSeconds,
      renditions,
      x264Preset: opts.preset,
      idleTimeoutMs: idle * 1000,
      retries,
      signal: abort.signal,
      liveState: liveStateOnChain(chain),
      events: { onChunk: print, onStatus, onRefused, onWarning: warn(opts) },
    });
    return done(state, opts);
  } finally {
    process.off("SIGINT", onSigint);
    await keyStore.close();
  }
}

/** A problem that did not stop the stream: on stderr (a "warning" event with --json), with what to do. */
function warn(opts: LiveOptions): (message: string) => void {
  return (message) => console.error(opts.json ? JSON.stringify({ event: "warning", message }) : `warning: ${message}`);
}

function done(state: LiveState, opts: LiveOptions): number {
  if (opts.json) console.log(JSON.stringify({ event: "done", ...state }));
  else if (state.status === "complete") console.log(`ended: ${state.chunks.length} segments, content ${state.contentId}, VOD manifest ${state.manifestCid}, tx ${state.finalTx ?? state.registerTx}`);
  else console.log(`failed: ${state.error}`);
  return state.status === "complete" ? EXIT.OK : EXIT.PARTIAL;
}

async function finalizeCommand(id: string, opts: LiveOptions): Promise<number> {
  if (!LIVE_ID.test(id)) throw new CliError(`--finalize "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`, "bad_input");
  const home = homeDir(opts);
  const existing = readLiveState(home, id);
  if (!existing) throw new CliError(`no live stream "${id}" in ${path.join(home, "live")}`, "not_found");
  if (existing.status === "recording" || existing.status === "finalizing") throw new CliError(`live stream "${id}" is still ${existing.status} in process ${existing.pid}: stop it (Ctrl-C ends it cleanly) instead of finalizing`, "bad_input");
  const chain = await openChain(opts);
  const store = openStore(home);
  const keyStore = await openKeys(home);
  try {
    return done(await finalizeLive({ id, home, store, keyStore, chain, retries: num(opts.retries, "--retries", 8, 0, 100), liveState: liveStateOnChain(chain), events: { onWarning: warn(opts) } }), opts);
  } finally {
    await keyStore.close();
  }
}

export async function liveStatusCommand(id: string, opts: GlobalOptions & { json?: boolean }): Promise<number> {
  const home = homeDir(opts);
  const state = readLiveState(home, id);
  if (!state) throw new CliError(`no live stream "${id}" in ${path.join(home, "live")}`, "not_found");
  const status = liveStatus(state);
  if (opts.json) {
    const { rtmpKeyHash: _rtmp, srtKeyHash: _srt, ...shown } = state;
    console.log(toJson({ ...shown, ...status, state: status.state }));
    return EXIT.OK;
  }
  console.log(
    `live stream ${state.id} (${state.title}): ${status.state}, content ${state.contentId}; ${status.chunksStored} segments stored (${formatBytes(status.bytesStored)}, ${status.secondsStored.toFixed(1)} s), ${status.failedWrites} failed writes retried${status.latestSegmentAt ? `, latest segment ${status.latestSegmentAt}` : ""}${state.manifestCid ? `, VOD manifest ${state.manifestCid}` : ""}${state.liveOnChain ? `, ${state.liveOnChain} on chain` : ""}${state.error ? `; ${state.error}` : ""}${state.liveOnChainError ? `; ${state.liveOnChainError}` : ""}`,
  );
  const t = table({ head: ["chunk", "status", "seconds", "stored", "attempts", "piece"] });
  for (const c of state.chunks) t.push([c.index, c.status, c.duration.toFixed(1), formatBytes(c.storedSize ?? 0), c.attempts, c.pieceCid ?? c.error ?? "-"]);
  console.log(t.toString());
  return EXIT.OK;
}

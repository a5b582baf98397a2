/** `live <input>` and `live-status <id>`. */
import path from "node:path";
import { archiveLive, readLiveState } from "@streamvault/lib/live/archiver.ts";
import type { LiveChunk } from "@streamvault/lib/live/archiver.ts";
import type { Tier } from "@streamvault/lib/catalog/chain/content.ts";
import { existsSync } from "node:fs";
import { CliError, EXIT, table, formatBytes, homeDir, openChain, openKeys, openStore, toJson } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

export interface LiveOptions extends GlobalOptions {
  id?: string;
  title?: string;
  tier?: string;
  segmentSeconds?: string;
  idleTimeout?: string;
  retries?: string;
  json?: boolean;
}

function num(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n >= min) || !Number.isFinite(n)) throw new CliError(`${name} must be a number >= ${min}, got "${value}"`, "bad_input");
  return n;
}

export async function liveCommand(input: string, opts: LiveOptions): Promise<number> {
  if (input !== "-" && !existsSync(input)) throw new CliError(`${input} does not exist: pass a growing media file, or - to read stdin`, "bad_input");
  const id = opts.id ?? `live-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) throw new CliError(`--id "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`, "bad_input");
  const segmentSeconds = num(opts.segmentSeconds, "--segment-seconds", 10, 1);
  const idle = num(opts.idleTimeout, "--idle-timeout", 10, 0.5);
  const retries = num(opts.retries, "--retries", 4, 0);
  const home = homeDir(opts);
  const existing = readLiveState(home, id);
  if (existing && existing.status !== "failed" && existing.status !== "interrupted") throw new CliError(`live archive "${id}" already exists (${existing.status}); pick another --id`, "bad_input");
  if (existing && !opts.json) console.log(`continuing ${existing.status} archive ${id}: ${existing.chunks.filter((c) => c.status === "uploaded").length} chunks already stored`);
  const chain = await openChain(opts);
  const store = openStore(home);
  const keyStore = await openKeys(home);
  const print = (c: LiveChunk) => {
    if (opts.json) console.log(JSON.stringify({ event: "chunk", ...c }));
    else console.log(`chunk ${String(c.index).padStart(4)} ${c.status.padEnd(9)} ${c.duration.toFixed(1)} s${c.storedSize ? ` ${formatBytes(c.storedSize)}` : ""}${c.pieceCid && c.status === "uploaded" ? ` ${c.pieceCid}` : ""}${c.error && c.status !== "uploaded" ? ` (${c.error})` : ""}`);
  };
  if (!opts.json) console.log(`live archive ${id}: reading ${input === "-" ? "stdin" : input}, ${segmentSeconds} s chunks`);
  try {
    const state = await archiveLive({
      input,
      id,
      title: opts.title,
      tier: (opts.tier ?? "premium") as Tier,
      home,
      store,
      keyStore,
      chain,
      segmentSeconds,
      idleTimeoutMs: idle * 1000,
      retries,
      events: { onChunk: print },
    });
    if (opts.json) console.log(JSON.stringify({ event: "done", ...state }));
    else if (state.status === "complete") console.log(`complete: ${state.chunks.length} chunks, content ${state.contentId}, manifest ${state.manifestCid}, tx ${state.registerTx}`);
    else console.log(`failed: ${state.error}`);
    return state.status === "complete" ? EXIT.OK : EXIT.PARTIAL;
  } finally {
    await keyStore.close();
  }
}

export async function liveStatusCommand(id: string, opts: GlobalOptions & { json?: boolean }): Promise<number> {
  const home = homeDir(opts);
  const state = readLiveState(home, id);
  if (!state) throw new CliError(`no live archive "${id}" in ${path.join(home, "live")}`, "not_found");
  if (opts.json) {
    console.log(toJson(state));
    return EXIT.OK;
  }
  console.log(`live archive ${state.id} (${state.title}): ${state.status}, content ${state.contentId}${state.manifestCid ? `, manifest ${state.manifestCid}` : ""}${state.error ? `; ${state.error}` : ""}`);
  const t = table({ head: ["chunk", "status", "seconds", "stored", "attempts", "piece"] });
  for (const c of state.chunks) t.push([c.index, c.status, c.duration.toFixed(1), formatBytes(c.storedSize ?? 0), c.attempts, c.pieceCid ?? c.error ?? "-"]);
  console.log(t.toString());
  return EXIT.OK;
}

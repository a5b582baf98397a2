/**
 * PieceCID benchmark: `npm run bench:piece` (node scripts/bench-piece.ts [sizes in MiB, default 64 512]).
 *
 * For each input size, in one run over the same seeded random bytes: plain node:crypto SHA-256 (the
 * baseline), lib/piece's native path (all cores, and one thread), its portable path (JavaScript on
 * worker threads, and on one thread), and the reference `Piece.calculate` of @filoz/synapse-core; each
 * as MiB/s and as a ratio to SHA-256. Every result is checked against the reference CID.
 * Goals (issue 6): native >= 300 MiB/s, portable >= 30 MiB/s on this 2-core machine. Writes bench/piece.json.
 */
import * as Piece from "@filoz/synapse-core/piece";
import Table from "cli-table3";
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import path from "node:path";
import { nativeUnavailableReason, pieceCid, pieceRooter, type PieceCidOptions } from "@streamvault/lib/piece";

const MiB = 1 << 20;
const GOALS = { nativeMiBs: 300, portableMiBs: 30 };
const sizesMiB = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (sizesMiB.length === 0) sizesMiB.push(64, 512);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function seeded(size: number): Uint8Array {
  const cipher = createCipheriv("aes-256-ctr", createHash("sha256").update("bench-piece").digest(), Buffer.alloc(16));
  const out = new Uint8Array(size);
  const zeros = new Uint8Array(16 * MiB);
  for (let at = 0; at < size; at += zeros.length) out.set(cipher.update(zeros.subarray(0, Math.min(zeros.length, size - at))), at);
  return out;
}

/** Best of `runs` timings (seconds) of fn; the result of the last run is returned for checking. */
async function best<T>(runs: number, fn: () => Promise<T> | T): Promise<{ seconds: number; value: T }> {
  let seconds = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    value = await fn();
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  return { seconds, value };
}

interface Measurement {
  name: string;
  detail: string;
  MiBs: number;
  ratioToSha256: number;
  seconds: number;
}

const loadAtStart = loadavg()[0]!;
const table = new Table({
  head: ["input", "implementation", "MiB/s", "x SHA-256", "seconds"],
  colAligns: ["right", "left", "right", "right", "right"],
  style: { head: [], border: [] }, // plain text: the output is read in logs
});
const results: Record<string, Measurement[]> = {};
const native = nativeUnavailableReason() === undefined;

for (const sizeMiB of sizesMiB) {
  const bytes = seeded(sizeMiB * MiB);
  const sha = await best(3, () => createHash("sha256").update(bytes).digest());
  const shaMiBs = sizeMiB / sha.seconds;
  const reference = await best(1, () => Piece.calculate(bytes).toString());
  const rows: Measurement[] = [];
  const add = (name: string, detail: string, seconds: number) => {
    const MiBs = sizeMiB / seconds;
    rows.push({ name, detail, MiBs: round(MiBs), ratioToSha256: round(MiBs / shaMiBs, 3), seconds: round(seconds, 3) });
  };
  add("sha256", "node:crypto createHash (baseline)", sha.seconds);
  const ours: [name: string, options: PieceCidOptions, runs: number][] = [
    ["native", { path: "native" }, 3],
    ["native-1-thread", { path: "native", threads: 1 }, 3],
    ["portable", { path: "portable" }, 1],
    ["portable-1-thread", { path: "portable", threads: 1 }, 1],
  ];
  if (!native) ours.splice(0, 2);
  for (const [name, options, runs] of ours) {
    await pieceCid(bytes.subarray(0, MiB), options); // warm up (workers, addon)
    const run = await best(runs, () => pieceCid(bytes, options));
    if (run.value !== reference.value) throw new Error(`${name} gave ${run.value}, reference ${reference.value}`);
    add(name, pieceRooter(options).detail, run.seconds);
  }
  add("Piece.calculate", "@filoz/synapse-core/piece (reference)", reference.seconds);
  results[`${sizeMiB}MiB`] = rows;
  for (const r of rows) table.push([`${sizeMiB} MiB`, `${r.name} (${r.detail})`, r.MiBs.toFixed(1), r.ratioToSha256.toFixed(3), r.seconds.toFixed(2)]);
}

const largest = results[`${Math.max(...sizesMiB)}MiB`]!;
const rate = (name: string) => largest.find((r) => r.name === name)?.MiBs;
const output = {
  generatedAt: new Date().toISOString(),
  command: `npm run bench:piece${process.argv.length > 2 ? ` -- ${sizesMiB.join(" ")}` : ""}`,
  machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, loadAverage1mAtStart: round(loadAtStart, 2), loadAverage1mAtEnd: round(loadavg()[0]!, 2), node: process.version },
  native: native ? pieceRooter({ path: "native" }).detail : `unavailable: ${nativeUnavailableReason()}`,
  results,
  goals: {
    nativeMiBs: { goal: GOALS.nativeMiBs, measured: rate("native"), met: (rate("native") ?? 0) >= GOALS.nativeMiBs },
    portableMiBs: { goal: GOALS.portableMiBs, measured: rate("portable"), met: (rate("portable") ?? 0) >= GOALS.portableMiBs },
  },
};
await mkdir("bench", { recursive: true });
await writeFile(path.join("bench", "piece.json"), JSON.stringify(output, null, 2) + "\n");
console.log(table.toString());
console.log(`${availableParallelism()} CPUs (${cpus()[0]?.model}), 1-min load average ${round(loadAtStart, 2)} at start, ${round(loadavg()[0]!, 2)} at end`);
for (const [goal, g] of Object.entries(output.goals)) console.log(`goal ${goal} >= ${g.goal} at ${Math.max(...sizesMiB)} MiB: ${g.met ? "met" : "NOT met"} (${g.measured ?? "n/a"})`);
console.log("wrote bench/piece.json");

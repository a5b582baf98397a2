/**
 * `storage status`: per storage backend, pieces and bytes written, reads, failures, repairs, read
 * latency p50/p99 and breaker state, from the counters the stores persist in `<pieces>.stats.json`
 * (lib/storage/stats.ts). `--json` prints the same report as `/api/storage/status`.
 */
import path from "node:path";
import { parseBackendSet, storageStatus } from "@streamvault/lib/storage";
import { CliError, EXIT, formatBytes, homeDir, table, toJson } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

export async function storageStatusCommand(opts: GlobalOptions & { json?: boolean }): Promise<number> {
  const home = homeDir(opts);
  const dataDir = process.env.STORAGE_DATA_DIR || path.join(home, "pieces");
  let backends: string[];
  try {
    backends = parseBackendSet(process.env.STORAGE_BACKEND);
  } catch (err) {
    throw new CliError(`storage is not usable: ${(err as Error).message}`, "bad_input");
  }
  const report = await storageStatus({ dataDir, file: process.env.STORAGE_STATS_FILE || undefined });
  // Configured backends appear even before their first operation.
  const rows = [...report.backends];
  for (const b of backends) if (!rows.some((r) => r.backend === b)) rows.push(emptyRow(b));
  if (opts.json) {
    console.log(toJson({ configured: backends, ...report, backends: rows }));
    return EXIT.OK;
  }
  const ms = (v: number | null) => (v === null ? "-" : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`);
  const t = table({ head: ["backend", "pieces", "bytes", "reads", "misses", "failures", "repairs", "read p50", "read p99", "breaker"] });
  for (const r of rows) {
    t.push([
      backends.includes(r.backend) ? r.backend : `${r.backend} (not configured)`,
      r.piecesWritten,
      formatBytes(r.bytesWritten),
      r.reads,
      r.misses,
      r.failures,
      r.repairFailures > 0 ? `${r.repairs} (${r.repairFailures} failed)` : r.repairs,
      ms(r.readLatencyMs.p50),
      ms(r.readLatencyMs.p99),
      r.breaker,
    ]);
  }
  console.log(t.toString());
  console.error(`storage set: ${backends.join("+")}; counters from ${report.file}${report.updatedAt ? ` (updated ${report.updatedAt})` : " (no operations recorded yet)"}`);
  return EXIT.OK;
}

function emptyRow(backend: string): Awaited<ReturnType<typeof storageStatus>>["backends"][number] {
  return {
    backend,
    piecesWritten: 0,
    bytesWritten: 0,
    reads: 0,
    bytesRead: 0,
    misses: 0,
    failures: 0,
    repairs: 0,
    repairFailures: 0,
    breaker: "closed",
    readLatencyMs: { p50: null, p99: null, samples: 0 },
  };
}

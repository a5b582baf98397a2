/**
 * Storage micro-benchmark (local only, no network): PieceCID hashing throughput, LocalStore
 * put/get, gateway full and ranged GETs over 127.0.0.1, and ReplicatedStore verified reads.
 *
 *   node scripts/bench-storage.ts [sizeMiB=16]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalStore, ReplicatedStore, computePieceCid, startGateway } from "../lib/storage/index.ts";

const sizeMiB = Number(process.argv[2] ?? 16);
const size = sizeMiB * 1024 * 1024;
const bytes = new Uint8Array(size);
for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;

async function time<T>(label: string, mib: number, fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const ms = performance.now() - t0;
  const rate = mib > 0 ? `  ${(mib / (ms / 1000)).toFixed(1)} MiB/s` : "";
  console.log(`${label.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms${rate}`);
  return out;
}

const dir = await mkdtemp(join(tmpdir(), "sv-bench-"));
try {
  const local = new LocalStore({ dir });
  await time(`PieceCID of ${sizeMiB} MiB`, sizeMiB, () => computePieceCid(bytes));
  const { pieceCid } = await time(`LocalStore.put ${sizeMiB} MiB (hash + fsync)`, sizeMiB, () => local.put(bytes));
  await time(`LocalStore.put again (idempotent)`, sizeMiB, () => local.put(bytes));
  await time(`LocalStore.get ${sizeMiB} MiB`, sizeMiB, () => local.get(pieceCid));
  await time(`LocalStore.get 64 KiB range`, 0, () => local.get(pieceCid, { start: size / 2, end: size / 2 + 65535 }));

  const gw = await startGateway({ store: local, port: 0 });
  try {
    const url = `${gw.url}/piece/${pieceCid}`;
    await time(`gateway GET ${sizeMiB} MiB (streamed)`, sizeMiB, async () => (await fetch(url)).arrayBuffer());
    await time(`gateway 100 x 64 KiB Range GETs`, 0, async () => {
      for (let i = 0; i < 100; i++) {
        const start = (i * 997 * 4096) % (size - 65536);
        await (await fetch(url, { headers: { Range: `bytes=${start}-${start + 65535}` } })).arrayBuffer();
      }
    });
  } finally {
    await gw.close();
  }

  const rep = new ReplicatedStore({ writeTo: [local] });
  await time(`ReplicatedStore.get (verifies whole piece)`, sizeMiB, () => rep.get(pieceCid));
} finally {
  await rm(dir, { recursive: true, force: true });
}

import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as Piece from "@filoz/synapse-core/piece";
import { LocalStore } from "@streamvault/lib/storage/local.ts";
import { InvalidPieceCidError } from "@streamvault/lib/storage/types.ts";
import { describeConformance, testBytes } from "./conformance.ts";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "sv-local-"));
}

/** Count final piece files (excluding the .tmp staging dir). */
async function pieceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of await readdir(dir).catch(() => [] as string[])) {
    if (sub === ".tmp") continue;
    for (const f of await readdir(join(dir, sub))) out.push(join(dir, sub, f));
  }
  return out;
}

describeConformance("local", async () => {
  const dir = await tempDir();
  const store = new LocalStore({ dir, chunkSize: 1024 });
  return {
    store,
    // Inode + mtime per file: a rewrite (even via rename) would change them.
    writes: async () =>
      Promise.all((await pieceFiles(dir)).map(async (f) => [f, (await stat(f)).ino, (await stat(f)).mtimeMs])),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe("LocalStore", function () {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stores each piece once, at <dir>/<last2>/<cid>, with no temp leftovers", async () => {
    const store = new LocalStore({ dir });
    const bytes = testBytes(4096, 1);
    const { pieceCid } = await store.put(bytes);
    await store.put(bytes);
    const files = await pieceFiles(dir);
    expect(files).to.deep.equal([join(dir, pieceCid.slice(-2), pieceCid)]);
    expect(Buffer.from(await readFile(files[0])).equals(Buffer.from(bytes))).to.equal(true);
    expect(await readdir(join(dir, ".tmp"))).to.deep.equal([]);
  });

  it("rejects non-PieceCID input instead of touching the filesystem (path traversal)", async () => {
    const store = new LocalStore({ dir });
    const err = await store.get("../../etc/passwd").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidPieceCidError);
    expect(() => store.pathFor("bafy-not-a-piece")).to.throw(InvalidPieceCidError);
  });

  it("accepts a precomputed PieceCID but rejects one whose size does not match", async () => {
    const store = new LocalStore({ dir });
    const bytes = testBytes(1000, 2);
    const cid = Piece.calculate(bytes).toString();
    expect((await store.put(bytes, { pieceCid: cid })).pieceCid).to.equal(cid);
    const other = Piece.calculate(testBytes(999, 3)).toString();
    const err = await store.put(bytes, { pieceCid: other }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).name).to.equal("PieceIntegrityError");
  });

  it("urlFor uses the configured gateway URL", async () => {
    const store = new LocalStore({ dir, publicUrl: "http://127.0.0.1:9999/" });
    const cid = Piece.calculate(testBytes(200, 4)).toString();
    expect(store.urlFor(cid)).to.equal(`http://127.0.0.1:9999/piece/${cid}`);
    expect(new LocalStore({ dir }).urlFor(cid)).to.equal(undefined);
  });

  it("honours an aborted signal without leaving a piece or temp file", async () => {
    const store = new LocalStore({ dir, chunkSize: 256 });
    const ac = new AbortController();
    const bytes = testBytes(4096, 5);
    let calls = 0;
    const err = await store
      .put(bytes, {
        signal: ac.signal,
        onProgress: () => {
          if (++calls === 2) ac.abort();
        },
      })
      .catch((e: unknown) => e);
    expect((err as Error).name).to.equal("AbortError");
    expect(await pieceFiles(dir)).to.deep.equal([]);
    expect(await readdir(join(dir, ".tmp"))).to.deep.equal([]);
    expect(await store.has(Piece.calculate(bytes).toString())).to.equal(false);
  });

  it("a process killed mid-write (SIGKILL) leaves no half piece under the real name", async function () {
    // The child writes in 512-byte chunks and SIGKILLs itself after the first chunk hits
    // the temp file: no cleanup code can run, exactly like a crash or `kill -9`.
    const localTs = fileURLToPath(new URL("../../lib/storage/local.ts", import.meta.url));
    const script = `
      import { LocalStore } from ${JSON.stringify(localTs)};
      const bytes = new Uint8Array(8192).map((_, i) => (i * 7) & 255);
      const store = new LocalStore({ dir: ${JSON.stringify(dir)}, chunkSize: 512 });
      await store.put(bytes, { onProgress: (n) => { if (n >= 512) process.kill(process.pid, "SIGKILL"); } });
      console.log("unreachable");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, s) => resolve(s)));
    expect(signal, stderr).to.equal("SIGKILL");
    expect(stdout).to.not.contain("unreachable");

    const bytes = new Uint8Array(8192).map((_, i) => (i * 7) & 255);
    const cid = Piece.calculate(bytes).toString();
    const store = new LocalStore({ dir });
    // The partial write exists only as a temp file...
    const tmp = await readdir(join(dir, ".tmp"));
    expect(tmp).to.have.length(1);
    expect(tmp[0].startsWith(cid)).to.equal(true);
    // ...never under the piece's name.
    expect(await pieceFiles(dir)).to.deep.equal([]);
    expect(await store.has(cid)).to.equal(false);

    // A retry stores the piece; the stale temp file is swept.
    expect((await store.put(bytes)).existed).to.equal(false);
    expect(Buffer.from(await store.get(cid)).equals(Buffer.from(bytes))).to.equal(true);
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(dir, ".tmp", tmp[0]), old, old);
    expect(await store.sweepTempFiles()).to.equal(1);
    expect(await readdir(join(dir, ".tmp"))).to.deep.equal([]);
  });

  it("returns the short file it finds, so a verifying reader can flag tampering", async () => {
    const store = new LocalStore({ dir });
    const bytes = testBytes(1000, 6);
    const { pieceCid } = await store.put(bytes);
    await writeFile(store.pathFor(pieceCid), bytes.subarray(0, 10));
    expect((await store.get(pieceCid)).length).to.equal(10);
  });
});

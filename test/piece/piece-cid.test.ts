/**
 * lib/piece against two references: `@filoz/synapse-core/piece` (Piece.calculate, a streaming hasher)
 * and an independent implementation, `@web3-storage/data-segment`'s whole-tree builder (Fr32.pad +
 * Tree.build), on both paths (native addon, portable JavaScript) and every entry point (sync, async,
 * stream, file, browser).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import * as Piece from "@filoz/synapse-core/piece";
import { Fr32, Tree, ZeroComm } from "@web3-storage/data-segment";
import { Digest } from "@web3-storage/data-segment/multihash";
import * as Link from "multiformats/link";
import {
  MAX_PIECE_PAYLOAD,
  nativeUnavailableReason,
  PieceInputError,
  pieceCid,
  pieceCidOfFile,
  pieceCidOfStream,
  pieceCidSync,
  pieceRooter,
  type PiecePath,
} from "@streamvault/lib/piece";
import { pieceCidOf as browserPieceCid } from "@streamvault/lib/piece/browser.ts";
import { seededBytes } from "./helpers.ts";

const PATHS: PiecePath[] = ["native", "portable"];
const MiB = 1 << 20;

/** data-segment's own tree builder: fr32-pad everything, build every level in memory. */
function dataSegmentPieceCid(payload: Uint8Array): string {
  const tree = Tree.build(Fr32.pad(payload));
  const padding = BigInt(Fr32.toZeroPaddedSize(payload.length) - payload.length);
  return Link.create(0x55, Digest.fromPiece({ padding, height: tree.height, root: tree.root } as never)).toString();
}

/** The bytes in `parts` pieces of uneven sizes, as a Node stream. */
function unevenStream(bytes: Uint8Array, parts = 7): Readable {
  const cuts = Array.from({ length: parts - 1 }, (_, i) => Math.floor((bytes.length * (i + 1) ** 2) / parts ** 2));
  const pieces = [0, ...cuts, bytes.length].slice(1).map((end, i, ends) => bytes.subarray(i === 0 ? 0 : ends[i - 1]!, end));
  return Readable.from(pieces);
}

async function everyEntryPoint(bytes: Uint8Array, path: PiecePath): Promise<Record<string, string>> {
  return {
    sync: pieceCidSync(bytes, { path }),
    async: await pieceCid(bytes, { path }),
    stream: await pieceCidOfStream(unevenStream(bytes), { path }),
    oneThread: pieceCidSync(bytes, { path, threads: 1 }),
  };
}

const around = (n: number) => [n - 1, n, n + 1];
const SIZES = [
  127,
  128,
  ...around(127 * 2 ** 1), // 254 = two quads
  ...around(127 * 2 ** 3),
  ...around(127 * 2 ** 8), // one block of the tree walk (2^10 leaves)
  ...around(127 * 2 ** 13), // one chunk handed to a path (2^15 leaves, lib/piece/core.ts CHUNK_HEIGHT)
  MiB - 1,
  MiB + 1,
  ...around(127 * 2 ** 17), // one stream batch (16 chunks)
];

describe("PieceCID (lib/piece)", function () {
  this.timeout(20 * 60_000);

  it("has the native addon built at install on this machine (x86-64 with a compiler)", function () {
    if (process.platform !== "linux" || process.arch !== "x64") this.skip();
    expect(nativeUnavailableReason()).to.equal(undefined);
    expect(pieceRooter().name).to.equal("native");
    expect(pieceRooter().detail).to.match(/^sha-ni|^scalar/);
  });

  describe("equals Piece.calculate and data-segment's tree on seeded random inputs", () => {
    for (const size of SIZES) {
      it(`${size.toLocaleString("en-US")} bytes`, async () => {
        const bytes = seededBytes(size, `sizes-${size}`);
        const expected = Piece.calculate(bytes).toString();
        expect(dataSegmentPieceCid(bytes)).to.equal(expected);
        for (const path of PATHS) {
          expect(await everyEntryPoint(bytes, path), path).to.deep.equal({ sync: expected, async: expected, stream: expected, oneThread: expected });
        }
        expect(browserPieceCid(bytes)).to.equal(expected);
      });
    }

    it("64 MiB (stream batches, chunk folding, zero half of the tree)", async () => {
      const bytes = seededBytes(64 * MiB, "64MiB");
      const expected = Piece.calculate(bytes).toString();
      expect(dataSegmentPieceCid(bytes)).to.equal(expected);
      for (const path of PATHS) {
        expect(await pieceCid(bytes, { path }), path).to.equal(expected);
        expect(await pieceCidOfStream(unevenStream(bytes, 23), { path }), `${path} stream`).to.equal(expected);
      }
      expect(pieceCidSync(bytes, { path: "native" })).to.equal(expected);
    });

    it("near the 1 GiB piece limit (1,065,353,216 - 4,097 bytes), native and portable, bytes and file", async () => {
      const size = MAX_PIECE_PAYLOAD - 4_097;
      const bytes = seededBytes(size, "near-limit");
      // data-segment's whole-tree builder holds every node as an object (GiBs here): only the streaming reference runs.
      const expected = Piece.calculate(bytes).toString();
      expect(Piece.getSizeFromPieceCID(expected)).to.equal(size);
      const dir = mkdtempSync(path.join(tmpdir(), "piece-"));
      try {
        const file = path.join(dir, "near-limit.bin");
        writeFileSync(file, bytes);
        expect(await pieceCid(bytes, { path: "native" }), "native bytes").to.equal(expected);
        expect(await pieceCidOfFile(file, { path: "native" }), "native file").to.equal(expected);
        // The portable path streams the same way (core.ts); one 1 GiB run of it keeps the suite short.
        expect(await pieceCidOfFile(file, { path: "portable" }), "portable file").to.equal(expected);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("known answers: all-zero payloads commit to the published zero-subtree roots", () => {
    // Roots of all-zero subtrees by height (Filecoin's zero commitments), as published in go-commp-utils' zerocomm.
    const PUBLISHED: Record<number, string> = {
      2: "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333",
      3: "642a607ef886b004bf2c1978463ae1d4693ac0f410eb2d1b7a47fe205e5e750f",
      4: "57a2381a28652bf47f6bef7aca679be4aede5871ab5cf3eb2c08114488cb8526",
      5: "1f7ac9595510e09ea41c460b176430bb322cd6fb412ec57cb17d989a4310372f",
      6: "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833",
      7: "08c47b38ee13bc43f41b915c0eed9911a26086b3ed62401bf9d58b8d19dff624",
    };
    const rootOf = (cid: string) => Buffer.from(Link.parse(cid).multihash.digest.subarray(-32)).toString("hex");
    const heightOf = (cid: string) => Link.parse(cid).multihash.digest.at(-33);

    for (const path of PATHS) {
      it(`${path}: 127 x 2^(h-2) zero bytes -> zero root of height h, padding 0 (h = 2..7, and a large h)`, async () => {
        for (const [height, root] of Object.entries(PUBLISHED)) {
          const cid = pieceCidSync(new Uint8Array(127 * 2 ** (Number(height) - 2)), { path });
          expect(rootOf(cid), `height ${height}`).to.equal(root);
          expect(heightOf(cid)).to.equal(Number(height));
          expect(Piece.getSizeFromPieceCID(cid)).to.equal(127 * 2 ** (Number(height) - 2));
        }
        // At the limit on the portable path, 1 GiB of JavaScript hashing: 127 x 2^19 (height 21) keeps it short.
        const limitHeight = path === "native" ? 25 : 21;
        const limit = await pieceCid(new Uint8Array(127 * 2 ** (limitHeight - 2)), { path });
        expect(rootOf(limit)).to.equal(Buffer.from(ZeroComm.fromLevel(limitHeight)).toString("hex"));
        expect(heightOf(limit)).to.equal(limitHeight);
      });
    }
  });

  describe("input limits", () => {
    for (const path of PATHS) {
      it(`${path}: under 127 bytes is refused with what to do, or zero-padded when asked`, async () => {
        for (const size of [0, 1, 65, 126]) {
          expect(() => pieceCidSync(new Uint8Array(size), { path })).to.throw(PieceInputError, /at least 127 bytes.*pad: true/);
          let streamed: unknown;
          await pieceCidOfStream(Readable.from([new Uint8Array(size)]), { path }).catch((err: unknown) => (streamed = err));
          expect(streamed).to.be.instanceOf(PieceInputError);
        }
        const small = seededBytes(100, "small");
        const padded = new Uint8Array(127);
        padded.set(small);
        expect(pieceCidSync(small, { path, pad: true })).to.equal(Piece.calculate(padded).toString());
        expect(await pieceCidOfStream(Readable.from([small]), { path, pad: true })).to.equal(Piece.calculate(padded).toString());
      });
    }

    it("over the 1 GiB piece limit is refused before hashing (bytes) or as soon as the stream passes it", async () => {
      expect(() => pieceCidSync(new Uint8Array(MAX_PIECE_PAYLOAD + 1))).to.throw(PieceInputError, /at most 1,065,353,216 bytes.*split/);
      const block = new Uint8Array(64 * MiB);
      async function* tooLong() {
        for (let sent = 0; sent <= MAX_PIECE_PAYLOAD; sent += block.length) yield block;
      }
      let error: unknown;
      await pieceCidOfStream(tooLong()).catch((err: unknown) => (error = err));
      expect(error).to.be.instanceOf(PieceInputError);
    });
  });

  it("streams with bounded memory: 512 MiB through pieceCidOfStream grows array buffers by < 64 MiB", async () => {
    const block = seededBytes(4 * MiB, "bounded");
    let peak = 0;
    const base = process.memoryUsage().arrayBuffers;
    async function* source() {
      for (let i = 0; i < 128; i++) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
        yield block;
      }
    }
    const cid = await pieceCidOfStream(source(), { path: "native" });
    expect(Piece.getSizeFromPieceCID(cid)).to.equal(512 * MiB);
    expect(peak).to.be.below(64 * MiB);
  });

  describe("path selection (STREAMVAULT_PIECE_IMPL, STREAMVAULT_PIECE_ADDON)", () => {
    const probe = `
      import { pieceRooter, pieceCidSync } from "./lib/piece/index.ts";
      try { const r = pieceRooter(); console.log(JSON.stringify({ name: r.name, cid: pieceCidSync(new Uint8Array(1000).fill(7)) })); }
      catch (err) { console.log(JSON.stringify({ error: err.name, message: err.message })); }`;
    const run = (env: Record<string, string>) => {
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", probe], { cwd: process.cwd(), env: { ...process.env, ...env }, encoding: "utf8" });
      expect(child.status, child.stderr).to.equal(0);
      return JSON.parse(child.stdout) as { name?: string; cid?: string; error?: string; message?: string };
    };
    const expected = Piece.calculate(new Uint8Array(1000).fill(7)).toString();

    it("forces either path; both give the reference CID", function () {
      if (nativeUnavailableReason() !== undefined) this.skip();
      expect(run({ STREAMVAULT_PIECE_IMPL: "portable" })).to.deep.equal({ name: "portable", cid: expected });
      expect(run({ STREAMVAULT_PIECE_IMPL: "native" })).to.deep.equal({ name: "native", cid: expected });
    });

    it("falls back to the portable path when the addon is missing, unless native is forced", () => {
      const missing = { STREAMVAULT_PIECE_ADDON: "/nonexistent/piece_cid.node" };
      expect(run(missing)).to.deep.equal({ name: "portable", cid: expected });
      const forced = run({ ...missing, STREAMVAULT_PIECE_IMPL: "native" });
      expect(forced.error).to.equal("NativePieceUnavailableError");
      expect(forced.message).to.match(/not built.*npm run build:native/);
      expect(run({ STREAMVAULT_PIECE_IMPL: "fastest" }).message).to.match(/must be "native", "portable" or "auto"/);
    });
  });
});

/**
 * The PieceStore conformance suite: every backend must pass it.
 *
 *   describeConformance("local", async () => ({ store, cleanup }));
 *
 * PieceCIDs are checked against an independent computation (the SDK's Piece.calculate),
 * not against the library's own helper, so a backend cannot agree with itself by mistake.
 */
import { expect } from "chai";
import * as Piece from "@filoz/synapse-core/piece";
import {
  MAX_PIECE_BYTES,
  MIN_PIECE_BYTES,
  PieceNotFoundError,
  PieceSizeError,
  RangeNotSatisfiableError,
} from "@streamvault/lib/storage/types.ts";
import type { PieceStore } from "@streamvault/lib/storage/types.ts";

export interface ConformanceFixture {
  store: PieceStore;
  cleanup?: () => Promise<void> | void;
  /**
   * Snapshot of what the backend has physically written (files + inodes, upload sessions...).
   * Must be deep-equal before and after a repeated put, proving the put wrote nothing.
   */
  writes?: () => Promise<unknown> | unknown;
}

/** Deterministic pseudo-random bytes (xorshift), distinct per seed. */
export function testBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Register the conformance tests for one backend. `makeStore` runs before each test. */
export function describeConformance(name: string, makeStore: () => Promise<ConformanceFixture>): void {
  describe(`PieceStore conformance: ${name}`, function () {
    let fx: ConformanceFixture;
    beforeEach(async () => {
      fx = await makeStore();
    });
    afterEach(async () => {
      await fx?.cleanup?.();
    });

    it("round-trips bytes and returns the independently computed PieceCID", async () => {
      const bytes = testBytes(4096, 11);
      const expected = Piece.calculate(bytes).toString();
      const res = await fx.store.put(bytes);
      expect(res.pieceCid).to.equal(expected);
      expect(res.size).to.equal(4096);
      expect(res.existed).to.equal(false);
      expect(await fx.store.has(expected)).to.equal(true);
      const back = await fx.store.get(expected);
      expect(Buffer.from(back).equals(Buffer.from(bytes))).to.equal(true);
    });

    it("accepts exactly the minimum size (127 bytes)", async () => {
      const bytes = testBytes(MIN_PIECE_BYTES, 12);
      const res = await fx.store.put(bytes);
      expect(res.pieceCid).to.equal(Piece.calculate(bytes).toString());
      expect((await fx.store.get(res.pieceCid)).length).to.equal(MIN_PIECE_BYTES);
    });

    it("is idempotent: a second put reports existed and writes nothing", async () => {
      const bytes = testBytes(2048, 13);
      const first = await fx.store.put(bytes);
      const writesAfterFirst = await fx.writes?.();
      const second = await fx.store.put(bytes.slice());
      // location/mirrors (where the copy lives) may accompany the result; they must not change.
      expect(second).to.deep.include({ pieceCid: first.pieceCid, size: 2048, existed: true });
      expect(second.location).to.equal(first.location);
      expect(second.mirrors).to.deep.equal(first.mirrors);
      if (fx.writes) expect(await fx.writes()).to.deep.equal(writesAfterFirst);
      expect(Buffer.from(await fx.store.get(first.pieceCid)).equals(Buffer.from(bytes))).to.equal(true);
    });

    it("serves byte ranges (inclusive end, open end, clamped end)", async () => {
      const bytes = testBytes(3000, 14);
      const { pieceCid } = await fx.store.put(bytes);
      const mid = await fx.store.get(pieceCid, { start: 100, end: 199 });
      expect(Buffer.from(mid).equals(Buffer.from(bytes.subarray(100, 200)))).to.equal(true);
      const tail = await fx.store.get(pieceCid, { start: 2990 });
      expect(Buffer.from(tail).equals(Buffer.from(bytes.subarray(2990)))).to.equal(true);
      const clamped = await fx.store.get(pieceCid, { start: 2999, end: 99999 });
      expect(Array.from(clamped)).to.deep.equal([bytes[2999]]);
      const first = await fx.store.get(pieceCid, { start: 0, end: 0 });
      expect(Array.from(first)).to.deep.equal([bytes[0]]);
    });

    it("rejects a range that starts past the end", async () => {
      const { pieceCid } = await fx.store.put(testBytes(500, 15));
      const err = await fx.store.get(pieceCid, { start: 500 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RangeNotSatisfiableError);
    });

    it("throws PieceNotFoundError for a valid but absent PieceCID", async () => {
      const absent = Piece.calculate(testBytes(1024, 999)).toString();
      expect(await fx.store.has(absent)).to.equal(false);
      const err = await fx.store.get(absent).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PieceNotFoundError);
      expect((err as PieceNotFoundError).pieceCid).to.equal(absent);
    });

    it("rejects pieces below 127 bytes and above 1,065,353,216 bytes with PieceSizeError", async () => {
      const small = await fx.store.put(testBytes(MIN_PIECE_BYTES - 1, 16)).catch((e: unknown) => e);
      expect(small).to.be.instanceOf(PieceSizeError);
      expect((small as Error).message).to.match(/126 bytes.*127\.\.1065353216/);
      const empty = await fx.store.put(new Uint8Array(0)).catch((e: unknown) => e);
      expect(empty).to.be.instanceOf(PieceSizeError);
      // Zero-filled allocation is lazy, and the check happens before any hashing.
      const big = await fx.store.put(new Uint8Array(MAX_PIECE_BYTES + 1)).catch((e: unknown) => e);
      expect(big).to.be.instanceOf(PieceSizeError);
      expect((big as PieceSizeError).size).to.equal(MAX_PIECE_BYTES + 1);
    });

    it("reports monotonic progress ending at the full size", async () => {
      const bytes = testBytes(8192, 17);
      const seen: Array<[number, number]> = [];
      await fx.store.put(bytes, { onProgress: (done, total) => seen.push([done, total]) });
      expect(seen.length).to.be.greaterThan(0);
      for (let i = 1; i < seen.length; i++) expect(seen[i][0]).to.be.at.least(seen[i - 1][0]);
      expect(seen.every(([, total]) => total === 8192)).to.equal(true);
      expect(seen[seen.length - 1][0]).to.equal(8192);
    });

    it("keeps distinct pieces apart", async () => {
      const a = testBytes(1000, 21);
      const b = testBytes(1000, 22);
      const [ra, rb] = await Promise.all([fx.store.put(a), fx.store.put(b)]);
      expect(ra.pieceCid).to.not.equal(rb.pieceCid);
      expect(Buffer.from(await fx.store.get(rb.pieceCid)).equals(Buffer.from(b))).to.equal(true);
      expect(Buffer.from(await fx.store.get(ra.pieceCid)).equals(Buffer.from(a))).to.equal(true);
    });
  });
}

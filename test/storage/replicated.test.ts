import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Piece from "@filoz/synapse-core/piece";
import { LocalStore } from "@streamvault/lib/storage/local.ts";
import { ReplicatedStore, ReplicationError } from "@streamvault/lib/storage/replicated.ts";
import type { StorageFault } from "@streamvault/lib/storage/replicated.ts";
import { InjectedFaultError, faultyStore, mulberry32 } from "@streamvault/lib/storage/faulty.ts";
import { createStore, DEFAULT_DATA_DIR } from "@streamvault/lib/storage";
import { PieceNotFoundError, PieceSizeError } from "@streamvault/lib/storage/types.ts";
import { describeConformance, testBytes } from "./conformance.ts";

const dirs: string[] = [];
async function tempStore(name = "local"): Promise<LocalStore> {
  const dir = await mkdtemp(join(tmpdir(), `sv-rep-${name}-`));
  dirs.push(dir);
  return new LocalStore({ dir });
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describeConformance("replicated (3 local copies)", async () => {
  const stores = [await tempStore(), await tempStore(), await tempStore()];
  return { store: new ReplicatedStore({ writeTo: stores }) };
});

describeConformance("replicated over faulty backends (30% write failures, retried)", async () => {
  const a = faultyStore(await tempStore(), { failWriteRate: 0.3, seed: 7 });
  const b = faultyStore(await tempStore(), { failWriteRate: 0.3, seed: 8 });
  return { store: new ReplicatedStore({ writeTo: [a, b], retry: { minTimeout: 1, retries: 6 } }) };
});

describe("ReplicatedStore", function () {
  it("writes every copy, and a repeated put is a no-op on all of them", async () => {
    const stores = [await tempStore(), await tempStore()];
    const rep = new ReplicatedStore({ writeTo: stores });
    const bytes = testBytes(2000, 1);
    const first = await rep.put(bytes);
    for (const s of stores) expect(await s.has(first.pieceCid)).to.equal(true);
    expect((await rep.put(bytes)).existed).to.equal(true);
  });

  it("reads in order and verifies: a corrupted first copy is reported and served from the next", async () => {
    const [a, b] = [await tempStore("a"), await tempStore("b")];
    const faults: StorageFault[] = [];
    const rep = new ReplicatedStore({ writeTo: [a, b], onFault: (f) => faults.push(f), retry: { retries: 0 } });
    const bytes = testBytes(3000, 2);
    const { pieceCid } = await rep.put(bytes);
    const tampered = bytes.slice();
    tampered[1234] ^= 0x80;
    await writeFile(a.pathFor(pieceCid), tampered);

    const got = await rep.get(pieceCid, { start: 1230, end: 1239 });
    expect(Buffer.from(got).equals(Buffer.from(bytes.subarray(1230, 1240)))).to.equal(true);
    expect(faults).to.have.length(1);
    expect(faults[0]).to.include({ kind: "corrupt", backend: "local", pieceCid });
  });

  it("a missing copy is reported only when another copy exists", async () => {
    const [a, b] = [await tempStore(), await tempStore()];
    const faults: StorageFault[] = [];
    const rep = new ReplicatedStore({ writeTo: [a, b], onFault: (f) => faults.push(f) });
    const bytes = testBytes(800, 3);
    await b.put(bytes); // only the second backend holds it
    const cid = Piece.calculate(bytes).toString();
    expect((await rep.get(cid)).length).to.equal(800);
    expect(faults.map((f) => f.kind)).to.deep.equal(["missing"]);

    faults.length = 0;
    const absent = Piece.calculate(testBytes(800, 4)).toString();
    const err = await rep.get(absent).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PieceNotFoundError);
    expect(faults).to.deep.equal([]);
  });

  it("fails the read with ReplicationError when every copy is corrupt", async () => {
    const a = await tempStore();
    const faults: StorageFault[] = [];
    const rep = new ReplicatedStore({
      writeTo: [a],
      readFrom: [faultyStore(a, { corruptReadRate: 1 }), faultyStore(a, { corruptReadRate: 1, seed: 2 })],
      onFault: (f) => faults.push(f),
    });
    const { pieceCid } = await rep.put(testBytes(600, 5));
    const err = await rep.get(pieceCid).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ReplicationError);
    expect(faults.map((f) => f.kind)).to.deep.equal(["corrupt", "corrupt"]);
  });

  it("retries transient write failures with backoff, then reports permanent ones", async () => {
    const flaky = faultyStore(await tempStore(), { failWriteRate: 1, seed: 3 });
    const good = await tempStore();
    const faults: StorageFault[] = [];
    const rep = new ReplicatedStore({
      writeTo: [good, flaky],
      minWrites: 1,
      retry: { retries: 3, minTimeout: 1, factor: 2 },
      onFault: (f) => faults.push(f),
    });
    const res = await rep.put(testBytes(500, 6));
    expect(flaky.injected.writes).to.equal(4); // 1 attempt + 3 retries
    expect(faults).to.have.length(1);
    expect(faults[0].kind).to.equal("write-failed");
    expect(faults[0].error).to.be.instanceOf(InjectedFaultError);
    expect(res.existed).to.equal(false);
    expect(await good.has(res.pieceCid)).to.equal(true);

    const strict = new ReplicatedStore({ writeTo: [good, flaky], retry: { retries: 1, minTimeout: 1 } });
    const err = await strict.put(testBytes(500, 7)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ReplicationError);
    expect((err as Error).message).to.match(/only 1\/2 copies written/);
  });

  it("does not retry permanent errors (size limits)", async () => {
    let calls = 0;
    const inner = await tempStore();
    const counting = { ...inner, name: "counting", put: (b: Uint8Array) => (calls++, inner.put(b)), get: inner.get.bind(inner), has: inner.has.bind(inner) };
    const rep = new ReplicatedStore({ writeTo: [counting], retry: { minTimeout: 1 } });
    const err = await rep.put(testBytes(10, 8)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PieceSizeError);
    expect(calls).to.equal(0);
  });

  it("reports one averaged, monotonic progress stream across copies", async () => {
    const rep = new ReplicatedStore({ writeTo: [await tempStore(), await tempStore()] });
    const seen: number[] = [];
    await rep.put(testBytes(4000, 9), { onProgress: (done, total) => (expect(total).to.equal(4000), seen.push(done)) });
    expect(seen[seen.length - 1]).to.equal(4000);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).to.be.at.least(seen[i - 1]);
  });
});

describe("faultyStore", function () {
  it("is deterministic for a seed and roughly honours the rate", async () => {
    const run = async (seed: number) => {
      const s = faultyStore(await tempStore(), { failWriteRate: 0.25, seed });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) outcomes.push(await s.put(testBytes(127, 100 + i)).then(() => true, () => false));
      return outcomes;
    };
    const a = await run(42);
    expect(await run(42)).to.deep.equal(a);
    expect(await run(43)).to.not.deep.equal(a);
    const failures = a.filter((ok) => !ok).length;
    expect(failures).to.be.within(4, 18);
  });

  it("injects missing and corrupt reads; mulberry32 is uniform-ish", async () => {
    const inner = await tempStore();
    const { pieceCid } = await inner.put(testBytes(300, 10));
    const missing = faultyStore(inner, { missingReadRate: 1 });
    expect(await missing.get(pieceCid).catch((e: unknown) => e)).to.be.instanceOf(PieceNotFoundError);
    const corrupt = faultyStore(inner, { corruptReadRate: 1 });
    const bad = await corrupt.get(pieceCid);
    expect(Piece.calculate(bad).toString()).to.not.equal(pieceCid);
    expect(corrupt.injected.corruptions).to.equal(1);
    const r = mulberry32(1);
    const xs = Array.from({ length: 10000 }, r);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).to.be.within(0.48, 0.52);
    expect(Math.min(...xs)).to.be.at.least(0);
    expect(Math.max(...xs)).to.be.below(1);
  });
});

describe("createStore", function () {
  it("defaults to a local store in .streamvault/pieces", () => {
    const store = createStore({ env: {} }) as LocalStore;
    expect(store.name).to.equal("local");
    expect(store.dir).to.equal(DEFAULT_DATA_DIR);
    expect(DEFAULT_DATA_DIR).to.equal(".streamvault/pieces");
  });

  it("honours STORAGE_DATA_DIR / STORAGE_PUBLIC_URL and rejects unknown backends", () => {
    const store = createStore({ env: { STORAGE_DATA_DIR: "/tmp/x", STORAGE_PUBLIC_URL: "http://127.0.0.1:1" } }) as LocalStore;
    expect(store.dir).to.equal("/tmp/x");
    expect(store.publicUrl).to.equal("http://127.0.0.1:1");
    expect(() => createStore({ env: { STORAGE_BACKEND: "floppy" } })).to.throw(/unknown storage backend "floppy".*local, synapse/);
    expect(() => createStore({ env: { STORAGE_BACKEND: "synapse" } })).to.throw(/SYNAPSE_PRIVATE_KEY/);
  });
});

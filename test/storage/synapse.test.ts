/**
 * SynapseStore against the Synapse SDK's own chain mocks + fake providers (msw, in-process).
 * The store code under test is the production path; only the network endpoints are fake.
 */
import { expect } from "chai";
import * as Mocks from "@filoz/synapse-core/mocks";
import * as Piece from "@filoz/synapse-core/piece";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalStore } from "@streamvault/lib/storage/local.ts";
import { ReplicatedStore } from "@streamvault/lib/storage/replicated.ts";
import type { StorageFault } from "@streamvault/lib/storage/replicated.ts";
import {
  SynapseStore,
  createSynapse,
  estimateUploadCost,
  fetchPriceList,
  filbeamUrl,
  setupPayments,
  synapseConfigFromEnv,
} from "@streamvault/lib/storage/synapse.ts";
import { createStore } from "@streamvault/lib/storage";
import type { StoreSet } from "@streamvault/lib/storage/set.ts";
import { PieceIntegrityError, PieceNotFoundError } from "@streamvault/lib/storage/types.ts";
import { describeConformance, testBytes } from "./conformance.ts";
import { startFakeFoc } from "./fake-foc.ts";
import type { FakeFoc } from "./fake-foc.ts";

const KEY = Mocks.PRIVATE_KEYS.key1;
const PAYER = Mocks.ADDRESSES.client1;

describe("Synapse backend (offline: SDK mocks + fake providers)", function () {
  let foc: FakeFoc;
  before(() => {
    foc = startFakeFoc();
  });
  after(() => {
    // Every request was answered in-process; none tried to leave the machine.
    expect(foc.unhandled).to.deep.equal([]);
    foc.close();
  });

  /** A fresh fake network per test, so tests do not see each other's pieces. */
  function resetFoc(): void {
    foc.close();
    foc = startFakeFoc();
  }

  describeConformance("synapse (1 copy, CDN)", async () => {
    resetFoc();
    const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: true }), copies: 1 });
    return { store, writes: () => foc.providers.map((p) => ({ ...p.stats, downloads: 0, cdnDownloads: 0 })) };
  });

  describeConformance("synapse (2 copies, no CDN)", async () => {
    resetFoc();
    const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: false }), copies: 2 });
    return { store, writes: () => foc.providers.map((p) => ({ ...p.stats, downloads: 0, cdnDownloads: 0 })) };
  });

  describe("SynapseStore specifics", function () {
    beforeEach(resetFoc);

    it("uploads once to the primary, pulls provider-to-provider to the secondary, commits both on-chain", async () => {
      const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: true }), copies: 2 });
      const bytes = testBytes(3000, 1);
      const { pieceCid } = await store.put(bytes, { metadata: { title: "track-1" } });
      const [p1, p2] = foc.providers;
      expect(p1.stats.uploadedBytes).to.equal(3000);
      expect(p2.stats.uploadedBytes).to.equal(0);
      expect(p2.stats.pulls).to.equal(1);
      expect(foc.holders(pieceCid)).to.have.length(2);
      const dataSets = [...foc.chain.dataSets.values()];
      expect(dataSets.map((d) => d.providerId).sort()).to.deep.equal([1n, 2n]);
      expect(dataSets.every((d) => d.pieces.includes(pieceCid))).to.equal(true);
      expect(dataSets[0].metadata).to.include({ source: "streamvault" });
      expect(dataSets[0].metadata).to.have.property("withCDN");

      // A second piece reuses the same data sets instead of opening new ones (each costs a minimum).
      await store.put(testBytes(500, 2));
      expect(foc.chain.dataSets.size).to.equal(2);
      expect([...foc.chain.dataSets.values()].every((d) => d.pieces.length === 2)).to.equal(true);
    });

    it("hands the SDK the precomputed PieceCID, so the SDK does not hash the upload again", async () => {
      const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: false }), copies: 1 });
      const bytes = testBytes(4000, 7);
      // A CID of other bytes of the same size passes our size check; had the SDK hashed the stream itself it would
      // send the right CID and succeed. The provider (which recomputes) refuses it: the SDK used ours.
      const otherCid = Piece.calculate(testBytes(4000, 8)).toString();
      let refused: unknown;
      await store.put(bytes, { pieceCid: otherCid }).catch((err: unknown) => (refused = err));
      expect(String((refused as Error)?.cause ?? refused)).to.match(/PieceCID mismatch|Failed to store/);
      expect(foc.holders(otherCid)).to.have.length(0);
      // With the right precomputed CID the same upload lands.
      const right = Piece.calculate(bytes).toString();
      expect((await store.put(bytes, { pieceCid: right })).pieceCid).to.equal(right);
      expect(foc.holders(right)).to.have.length(1);
    });

    it("a new store instance (new process) finds pieces via the chain and does not re-upload", async () => {
      const synapse = createSynapse({ privateKey: KEY, network: "calibration", withCDN: false });
      const bytes = testBytes(1200, 3);
      const { pieceCid } = await new SynapseStore({ synapse, copies: 1 }).put(bytes);
      const again = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: false }), copies: 1 });
      expect(await again.has(pieceCid)).to.equal(true);
      expect((await again.put(bytes)).existed).to.equal(true);
      expect(foc.providers[0].stats.uploadSessions).to.equal(1);
      expect(Buffer.from(await again.get(pieceCid)).equals(Buffer.from(bytes))).to.equal(true);
    });

    it("urlFor is the FilBeam URL with the payer address (calibration and mainnet)", () => {
      const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: true }) });
      const cid = Piece.calculate(testBytes(200, 4)).toString();
      expect(store.urlFor(cid)).to.equal(`https://${PAYER}.calibration.filbeam.io/${cid}`);
      const main = createSynapse({ privateKey: KEY, network: "mainnet", withCDN: true });
      expect(filbeamUrl(main.client.account.address, main.chain, cid)).to.equal(`https://${PAYER}.filbeam.io/${cid}`);
    });

    it("reads via CDN when enabled, and via the provider view when asked", async () => {
      const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: true }), copies: 1 });
      const bytes = testBytes(2000, 5);
      const { pieceCid } = await store.put(bytes);
      const p1 = foc.providers[0];
      await store.get(pieceCid);
      expect(p1.stats.cdnDownloads).to.equal(1);
      expect(p1.stats.downloads).to.equal(0);
      await store.view("provider").get(pieceCid, { start: 10, end: 20 });
      expect(p1.stats.downloads).to.equal(1);
      expect(store.view("cdn").name).to.equal("synapse-cdn");
    });

    it("detects a corrupted provider copy (PieceCID recomputed on download)", async () => {
      const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: false }), copies: 1 });
      const { pieceCid } = await store.put(testBytes(900, 6));
      foc.providers[0].corrupt(pieceCid);
      const err = await store.get(pieceCid).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PieceIntegrityError);
    });

    it("retries a transient provider failure through ReplicatedStore and reports it via onFault", async () => {
      const store = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: false }), copies: 1 });
      const faults: StorageFault[] = [];
      const rep = new ReplicatedStore({ writeTo: [store], retry: { minTimeout: 5, retries: 2 }, onFault: (f) => faults.push(f) });
      foc.providers[0].failNextUploads = 1;
      const { pieceCid, existed } = await rep.put(testBytes(700, 7));
      expect(existed).to.equal(false);
      expect(foc.providers[0].stats.uploadSessions).to.equal(2); // first attempt failed, retry succeeded
      expect(faults).to.deep.equal([]); // a retried success is not a fault
      expect(await store.has(pieceCid)).to.equal(true);
    });

    it("falls back CDN -> provider -> local and reports missing/corrupt copies", async () => {
      const dir = await mkdtemp(join(tmpdir(), "sv-syn-"));
      try {
        const synapse = new SynapseStore({ synapse: createSynapse({ privateKey: KEY, network: "calibration", withCDN: true }), copies: 1 });
        const local = new LocalStore({ dir });
        const faults: StorageFault[] = [];
        const rep = new ReplicatedStore({
          writeTo: [synapse, local],
          readFrom: [synapse.view("cdn"), synapse.view("provider"), local],
          retry: { retries: 0 },
          onFault: (f) => faults.push(f),
        });
        const bytes = testBytes(1500, 8);
        const { pieceCid } = await rep.put(bytes);
        expect(await local.has(pieceCid)).to.equal(true);
        expect(rep.urlFor(pieceCid)).to.equal(`https://${PAYER}.calibration.filbeam.io/${pieceCid}`);

        // Healthy: served by the CDN, no faults.
        expect(Buffer.from(await rep.get(pieceCid)).equals(Buffer.from(bytes))).to.equal(true);
        expect(faults).to.deep.equal([]);

        // Provider copy corrupted: CDN (cache miss -> provider) and provider both fail, local serves.
        foc.providers[0].corrupt(pieceCid);
        const got = await rep.get(pieceCid, { start: 0, end: 99 });
        expect(Buffer.from(got).equals(Buffer.from(bytes.subarray(0, 100)))).to.equal(true);
        expect(faults.map((f) => [f.backend, f.kind])).to.deep.equal([
          ["synapse-cdn", "corrupt"],
          ["synapse-provider", "corrupt"],
        ]);

        // Provider lost it entirely: reported as missing, local still serves.
        faults.length = 0;
        foc.providers[0].drop(pieceCid);
        expect((await rep.get(pieceCid)).length).to.equal(1500);
        expect(faults.map((f) => [f.backend, f.kind])).to.deep.equal([
          ["synapse-cdn", "missing"],
          ["synapse-provider", "missing"],
        ]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("estimates upload cost from the chain price list (and the price list for cost.ts)", async () => {
      const synapse = createSynapse({ privateKey: KEY, network: "calibration", withCDN: false });
      const est = await estimateUploadCost({ synapse, size: 1024 * 1024, copies: 2 });
      expect(est.copies).to.equal(2);
      expect(est.perMonth > 0n).to.equal(true);
      // Two small new data sets each pay at least the 0.06 USDFC/month minimum in the preset.
      expect(est.perMonth >= 2n * 6n * 10n ** 16n - 2n).to.equal(true);
      const prices = await fetchPriceList(synapse);
      expect(prices).to.deep.equal({
        storagePerTiBMonth: 2.5,
        cdnEgressPerTiB: 7,
        cacheMissEgressPerTiB: 7,
        minimumPerDataSetMonth: 0.06,
      });
    });

    it("setupPayments: permit deposit, deposit+approval in one tx, approval alone, clear errors", async () => {
      const synapse = createSynapse({ privateKey: KEY, network: "calibration", withCDN: false });
      const res = await setupPayments({ synapse, deposit: "10" });
      expect(res.depositedBaseUnits).to.equal(10n * 10n ** 18n);
      expect(res.depositTx).to.match(/^0x[0-9a-f]{64}$/);
      expect(res.approvalTx).to.equal(undefined); // preset: operator already approved
      const both = await setupPayments({ synapse, deposit: 5n, lockupAllowance: 10n ** 18n });
      expect(both.depositTx).to.match(/^0x[0-9a-f]{64}$/);
      expect(both.approvalTx).to.equal(both.depositTx);
      const approveOnly = await setupPayments({ synapse, deposit: 0n, rateAllowance: 1000n });
      expect(approveOnly.depositTx).to.equal(undefined);
      expect(approveOnly.approvalTx).to.match(/^0x[0-9a-f]{64}$/);
      // Preset wallet holds 1000 USDFC.
      const tooMuch = await setupPayments({ synapse, deposit: "5000" }).catch((e: unknown) => e);
      expect((tooMuch as Error).message).to.match(/cannot deposit/);
    });

    it("reads config from SYNAPSE_* env vars; createStore builds CDN -> provider -> local", async () => {
      const env = {
        STORAGE_BACKEND: "synapse",
        SYNAPSE_PRIVATE_KEY: KEY.slice(2),
        SYNAPSE_NETWORK: "calibration",
        SYNAPSE_WITH_CDN: "true",
        SYNAPSE_COPIES: "3",
      };
      const cfg = synapseConfigFromEnv(env);
      expect(cfg).to.deep.equal({ privateKey: KEY, rpcUrl: undefined, network: "calibration", withCDN: true, copies: 3 });
      expect(() => synapseConfigFromEnv({})).to.throw(/SYNAPSE_PRIVATE_KEY/);
      expect(() => synapseConfigFromEnv({ ...env, SYNAPSE_NETWORK: "devnet" })).to.throw(/SYNAPSE_NETWORK/);
      const store = createStore({ env: { ...env, STORAGE_STATS: "off" }, dataDir: join(tmpdir(), "sv-unused") }) as StoreSet;
      expect(store.readStages.map((s) => [s.name, s.store.name, s.backend])).to.deep.equal([
        ["cdn", "cdn", "synapse"],
        ["synapse", "synapse", "synapse"],
        ["local", "local", "local"],
      ]);
      expect([...store.backends.keys()]).to.deep.equal(["synapse", "local"]);
      const err = await store.get(Piece.calculate(testBytes(300, 9)).toString()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PieceNotFoundError);
    });
  });
});

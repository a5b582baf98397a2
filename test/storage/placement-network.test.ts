/**
 * Placement over real network backends: one StoreSet of S3 (a real Ceph RADOS Gateway, started
 * once for the suite), IPFS (Helia in-process) and local. Moves are real S3 objects written and
 * deleted, IPFS pins added and removed, files on disk.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStore } from "@streamvault/lib/storage";
import { S3Store } from "@streamvault/lib/storage/s3.ts";
import { StoreSet } from "@streamvault/lib/storage/set.ts";
import { PlacementJournal, SetPlacementTarget, optimizePlacement, placementConfig, placementView, readCurrentPlacement } from "@streamvault/lib/storage/placement";
import type { PlacementItem } from "@streamvault/lib/storage/placement";
import { CEPH_START_TIMEOUT_MS, cephOrSkip, startCeph } from "./ceph.ts";
import type { CephRgw } from "./ceph.ts";
import { testBytes } from "./conformance.ts";

const BUCKET = "placement";

describe("placement over real network backends (s3 on Ceph + ipfs + local)", function () {
  this.timeout(120_000);
  let ceph: CephRgw | undefined;
  let root: string;
  let set: StoreSet;
  let s3: S3Store;

  before(async function () {
    if (!cephOrSkip(this)) return;
    this.timeout(CEPH_START_TIMEOUT_MS + 30_000);
    ceph = await startCeph();
    root = await mkdtemp(join(tmpdir(), "sv-placement-net-"));
    // An independent S3 client: what the bucket holds, not what the set believes.
    s3 = new S3Store(ceph.storeOptions(BUCKET));
    await s3.ensureBucket();
    const env = {
      S3_ENDPOINT: ceph.endpoint,
      S3_REGION: ceph.region,
      S3_BUCKET: BUCKET,
      S3_ACCESS_KEY_ID: ceph.accessKeyId,
      S3_SECRET_ACCESS_KEY: ceph.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
      IPFS_LISTEN: "/ip4/127.0.0.1/tcp/0",
      STORAGE_STATS: "off",
    };
    // Preference order local, ipfs, s3: a cold item keeps local and loses its s3 and ipfs copies.
    set = createStore({ backend: "local+ipfs+s3", dataDir: join(root, "pieces"), env, placementView: placementView(join(root, "placement", "journal.jsonl")) }) as StoreSet;
  });

  after(async function () {
    this.timeout(60_000);
    await set?.close();
    await s3?.close();
    await ceph?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("an exclusive item reaches and keeps 3 copies, a cold free item drops to its floor of 1, a second --apply changes nothing", async () => {
    const exclusiveBytes = testBytes(300_000, 71);
    const coldBytes = [testBytes(200_000, 72), testBytes(3 * 1024 * 1024 + 17, 73)];
    // The exclusive track was written to S3 only; the cold free item everywhere.
    const ex = await set.put(exclusiveBytes, { backends: ["s3"] });
    expect(ex.mirrors!.map((m) => m.backend)).to.deep.equal(["s3"]);
    const cold = await Promise.all(coldBytes.map((b) => set.put(b)));
    for (const c of cold) expect(c.mirrors!.map((m) => m.backend)).to.deep.equal(["local", "ipfs", "s3"]);
    const items: PlacementItem[] = [
      { id: "vip", title: "VIP", tier: "exclusive", pieces: [{ pieceCid: ex.pieceCid, bytes: ex.size }] },
      { id: "cold", title: "Cold", tier: "free", pieces: cold.map((c) => ({ pieceCid: c.pieceCid, bytes: c.size })) },
    ];
    const target = new SetPlacementTarget({ store: set, cdnStateFile: join(root, "placement", "cdn.json") });
    const journal = new PlacementJournal(join(root, "placement", "journal.jsonl"));
    const cfg = placementConfig([...target.backends]);
    const plays = { vip: 0, cold: 0 };

    const first = await optimizePlacement(items, plays, target, cfg, { apply: true, journal, by: "test" });
    expect(first.outcome!.failed).to.deep.equal([]);
    expect(first.moves.map((m) => `${m.itemId} ${m.kind} ${m.backend}`).sort()).to.deep.equal(
      ["vip add-copy local", "vip add-copy ipfs", ...cold.flatMap(() => ["cold drop-copy s3", "cold drop-copy ipfs"])].sort(),
    );
    const after = await readCurrentPlacement(items, target);
    expect(after.copies[ex.pieceCid]).to.deep.equal(["local", "ipfs", "s3"]);
    for (const c of cold) expect(after.copies[c.pieceCid]).to.deep.equal(["local"]);
    // Asked of the services themselves: the objects are gone from the bucket, the exclusive's is there.
    for (const c of cold) expect(await s3.has(c.pieceCid)).to.equal(false);
    expect(await s3.has(ex.pieceCid)).to.equal(true);
    // The copies made are real and verified: the exclusive reads back from IPFS alone.
    const ipfs = set.backends.get("ipfs")!;
    expect(Buffer.from(await ipfs.get(ex.pieceCid)).equals(Buffer.from(exclusiveBytes))).to.equal(true);
    expect(await ipfs.has(cold[1]!.pieceCid)).to.equal(false);
    // Reading the cold item through the set does not re-copy it where placement dropped it
    // (nor did copying the exclusive spread it beyond the plan).
    expect(set.repairs.queued).to.equal(0);
    for (const [i, c] of cold.entries()) expect(Buffer.from(await set.get(c.pieceCid)).equals(Buffer.from(coldBytes[i]!))).to.equal(true);
    await set.idle();
    expect(set.repairs.queued).to.equal(0);

    // The exclusive never goes below 3, however cold; the free item never below its floor.
    const second = await optimizePlacement(items, plays, target, cfg, { apply: true, journal, by: "test" });
    expect(second.moves).to.deep.equal([]);
    expect(second.outcome!.applied).to.deep.equal([]);
    expect(journal.entries()).to.have.length(first.moves.length);
    expect(await readCurrentPlacement(items, target)).to.deep.equal(after);
  });
});

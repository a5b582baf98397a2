import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TIB, DEFAULT_PRICE_LIST } from "@streamvault/lib/storage/cost.ts";
import { computePieceCid } from "@streamvault/lib/storage/piece.ts";
import { LocalStore } from "@streamvault/lib/storage/local.ts";
import { StoreSet } from "@streamvault/lib/storage/set.ts";
import { createStore } from "@streamvault/lib/storage";
import { faultyStore } from "@streamvault/lib/storage/faulty.ts";
import {
  PlacementJournal,
  SetPlacementTarget,
  applyPlacement,
  costHistory,
  decideItem,
  groupJournal,
  optimizePlacement,
  placementConfig,
  planPlacement,
  readCurrentPlacement,
  realItemCost,
  placementView,
  storageReport,
} from "@streamvault/lib/storage/placement";
import type { CurrentPlacement, JournalEntry, PlacementItem, PlacementTier } from "@streamvault/lib/storage/placement";
import { testBytes } from "./conformance.ts";

const GIB = 2 ** 30;
const BACKENDS = ["b1", "b2", "b3", "b4", "b5", "b6"];
const config = placementConfig(BACKENDS);
const item = (id: string, tier: PlacementTier, pieces: [string, number][]): PlacementItem => ({ id, tier, pieces: pieces.map(([pieceCid, bytes]) => ({ pieceCid, bytes })) });
const on = (...backends: string[]) => backends;

describe("placement policy (planPlacement)", function () {
  it("a hot free item gains CDN, its saving is minus the CDN egress of its plays", () => {
    const hit = item("hit", "free", [["p1", GIB]]);
    const moves = planPlacement([hit], { hit: 300 }, { copies: { p1: on("b1", "b2") }, cdn: {} }, config);
    expect(moves.map((m) => m.kind)).to.deep.equal(["cdn-on"]);
    // 300 plays of 1 GiB through the CDN, CDN + cache-miss egress (7 + 7 per TiB)
    expect(moves[0]!.monthlySaving).to.be.closeTo(-((300 * GIB) / TIB) * 14, 1e-9);
    expect(moves[0]).to.include({ from: "CDN off", to: "CDN on" });
    expect(moves[0]!.reason).to.match(/hot/);
  });

  it("a cold item drops to its tier's floor, dropping from the least preferred backends, each saving a copy's storage", () => {
    const old = item("old", "free", [["p1", GIB], ["p2", 2 * GIB]]);
    const moves = planPlacement([old], { old: 1 }, { copies: { p1: on("b1", "b2", "b3"), p2: on("b1", "b3") }, cdn: {} }, config);
    expect(moves.map((m) => `${m.kind} ${m.pieceCid} ${m.backend}`)).to.deep.equal(["drop-copy p1 b3", "drop-copy p1 b2", "drop-copy p2 b3"]);
    const perCopy = (GIB / TIB) * DEFAULT_PRICE_LIST.storagePerTiBMonth;
    expect(moves[0]!.monthlySaving).to.be.closeTo(perCopy, 1e-12);
    expect(moves[2]!.monthlySaving).to.be.closeTo(2 * perCopy, 1e-12);
    expect(moves.map((m) => `${m.from} -> ${m.to}`)).to.deep.equal(["3 copies -> 2 copies", "2 copies -> 1 copy", "2 copies -> 1 copy"]);
  });

  it("a cold premium item stops at the premium floor of 2", () => {
    const moves = planPlacement([item("p", "premium", [["p1", GIB]])], {}, { copies: { p1: on("b1", "b2", "b3", "b4") }, cdn: {} }, config);
    expect(moves.filter((m) => m.kind === "drop-copy")).to.have.length(2);
    expect(moves.at(-1)!.to).to.equal("2 copies");
  });

  it("an exclusive item never goes below 3 copies and never on the CDN, however cold or hot", () => {
    for (const plays of [0, 1, 50, 10_000]) {
      const d = decideItem(item("x", "exclusive", []), plays, config);
      expect(d.copies, `plays ${plays}`).to.equal(3);
      expect(d.cdn, `plays ${plays}`).to.equal(false);
    }
    const vip = item("vip", "exclusive", [["p1", GIB]]);
    const fromOne = planPlacement([vip], { vip: 0 }, { copies: { p1: on("b1") }, cdn: { vip: true } }, config);
    expect(fromOne.map((m) => `${m.kind} ${m.backend ?? ""}`)).to.deep.equal(["add-copy b2", "add-copy b3", "cdn-off "]);
    expect(fromOne[0]).to.include({ source: "b1", targetCopies: 3 });
    expect(fromOne[0]!.monthlySaving).to.be.lessThan(0);
    const fromFive = planPlacement([vip], { vip: 0 }, { copies: { p1: on("b1", "b2", "b3", "b4", "b5") }, cdn: {} }, config);
    expect(fromFive.map((m) => m.backend)).to.deep.equal(["b5", "b4"]);
  });

  it("backups are kept in 5 copies", () => {
    const backup = item("backup:0", "backup", [["snap", 5000]]);
    const up = planPlacement([backup], {}, { copies: { snap: on("b2") }, cdn: {} }, config);
    expect(up.map((m) => m.backend)).to.deep.equal(["b1", "b3", "b4", "b5"]);
    const down = planPlacement([backup], {}, { copies: { snap: BACKENDS }, cdn: {} }, config);
    expect(down.map((m) => `${m.kind} ${m.backend}`)).to.deep.equal(["drop-copy b6"]);
    expect(planPlacement([backup], { "backup:0": 10_000 }, { copies: { snap: BACKENDS.slice(0, 5) }, cdn: {} }, config)).to.deep.equal([]);
  });

  it("plays are scaled from the window to a month; a warm item has its tier's copies and no CDN", () => {
    const week = placementConfig(BACKENDS, { windowDays: 7 });
    // 30 plays in 7 days ≈ 128.6 plays/month: hot
    expect(decideItem(item("a", "free", []), 30, week)).to.include({ heat: "hot", cdn: true });
    expect(decideItem(item("a", "free", []), 30, config)).to.include({ heat: "warm", cdn: false, copies: 2 });
    const moves = planPlacement([item("a", "free", [["p", GIB]])], { a: 30 }, { copies: { p: on("b1", "b2") }, cdn: { a: true } }, config);
    expect(moves.map((m) => m.kind)).to.deep.equal(["cdn-off"]);
    expect(moves[0]!.monthlySaving).to.be.greaterThan(0);
  });

  it("with fewer backends than copies it reaches what it can and says so; a piece on no backend gets no move", () => {
    const two = placementConfig(["b1", "b2"]);
    const vip = item("vip", "exclusive", [["p1", GIB], ["lost", GIB]]);
    expect(decideItem(vip, 0, two).shortfall).to.match(/3 copies but only 2 backend/);
    const moves = planPlacement([vip], {}, { copies: { p1: on("b1") }, cdn: {} }, two);
    expect(moves.map((m) => `${m.pieceCid} ${m.backend}`)).to.deep.equal(["p1 b2"]);
  });

  it("a piece shared by a cold free item and an exclusive one keeps the exclusive's 3 copies (no flapping)", () => {
    const cover = "cover";
    const free = item("free", "free", [["f1", GIB], [cover, 1000]]);
    const vip = item("vip", "exclusive", [["v1", GIB], [cover, 1000]]);
    const current: CurrentPlacement = { copies: { f1: on("b1", "b2"), v1: on("b1", "b2", "b3"), [cover]: on("b1", "b2", "b3") }, cdn: {} };
    const moves = planPlacement([free, vip], {}, current, config);
    expect(moves.map((m) => `${m.kind} ${m.pieceCid} ${m.backend}`)).to.deep.equal(["drop-copy f1 b2"]);
    // Held on only one backend, it is brought to 3 once, on behalf of the exclusive item.
    const low = planPlacement([free, vip], {}, { ...current, copies: { ...current.copies, [cover]: on("b1") } }, config);
    expect(low.filter((m) => m.pieceCid === cover).map((m) => `${m.itemId} ${m.kind} ${m.backend}`)).to.deep.equal(["vip add-copy b2", "vip add-copy b3"]);
  });

  it("rejects bad configuration and tiers with a message saying what is wrong", () => {
    expect(() => placementConfig(["a", "a"])).to.throw(/distinct/);
    expect(() => placementConfig(["a"], { windowDays: 0 })).to.throw(/windowDays/);
    expect(() => placementConfig(["a"], { tiers: { ...config.tiers, exclusive: { copies: 2, floor: 3, cdn: false } } })).to.throw(/floor <= copies/);
    expect(() => decideItem(item("x", "gold" as PlacementTier, []), 1, config)).to.throw(/unknown tier "gold"/);
  });
});

describe("placement cost per item and history", function () {
  it("real cost follows the copies actually stored, not the tier", () => {
    const it1 = item("a", "exclusive", [["p1", GIB], ["p2", GIB]]);
    const current: CurrentPlacement = { copies: { p1: on("b1"), p2: on("b1", "b2") }, cdn: {} };
    const cost = realItemCost(it1, current, 0, config);
    expect(cost).to.include({ bytes: 2 * GIB, storedBytes: 3 * GIB, minCopies: 1, maxCopies: 2, cdn: false, egress: 0 });
    expect(cost.storage).to.be.closeTo((3 * GIB / TIB) * 2.5, 1e-12);
  });

  it("recent moves fold one run's lines per item, kind and backend into one row", () => {
    const line = (at: number, pieceCid: string, backend: string, by = "optimize"): JournalEntry => ({ at: new Date(at).toISOString(), kind: "drop-copy", itemId: "a", tier: "free", pieceCid, backend, from: "3 copies", to: "2 copies", reason: "cold", monthlySaving: 1, bytes: 10, by });
    const t = Date.UTC(2026, 5, 1);
    const rows = groupJournal([line(t, "p1", "b3"), line(t + 5, "p2", "b3"), line(t + 9, "p3", "b3"), line(t + 10, "p1", "b2"), line(t + 3600_000, "p4", "b3", "watch")]);
    expect(rows.map((r) => `${r.backend} ${r.pieces} ${r.bytes} ${r.monthlySaving} ${r.by}`)).to.deep.equal(["b3 1 10 1 watch", "b2 1 10 1 optimize", "b3 3 30 3 optimize"]);
    expect(groupJournal([line(t, "p1", "b3"), line(t + 1, "p1", "b2")], 1)).to.have.length(1);
  });

  it("12 months of history: nothing before upload, copies walked back through the journal", () => {
    const now = Date.UTC(2026, 11, 16); // 16 Dec 2026
    const uploaded = Date.UTC(2026, 9, 1); // 1 Oct
    const a: PlacementItem & { uploadedAt: number } = { ...item("a", "free", [["p1", TIB]]), uploadedAt: uploaded };
    // Uploaded with 3 copies, one dropped on 1 Nov: now 2.
    const journal: JournalEntry[] = [{ at: new Date(Date.UTC(2026, 10, 1)).toISOString(), kind: "drop-copy", itemId: "a", tier: "free", pieceCid: "p1", backend: "b3", from: "3 copies", to: "2 copies", reason: "cold", monthlySaving: 2.5, bytes: TIB, by: "optimize" }];
    const months = costHistory([a], journal, { copies: { p1: on("b1", "b2") }, cdn: {} }, {}, config, { now });
    expect(months).to.have.length(12);
    expect(months[0]!.month).to.equal("2026-01");
    expect(months.at(-1)!.month).to.equal("2026-12");
    expect(months.slice(0, 9).every((m) => m.total === 0)).to.equal(true);
    const day = 24 * 3600 * 1000;
    const monthly = (copies: number, days: number) => copies * 2.5 * (days * day) / (30 * day);
    expect(months[9]!.storage).to.be.closeTo(monthly(3, 31), 1e-9); // October: 3 copies
    expect(months[10]!.storage).to.be.closeTo(monthly(2, 30), 1e-9); // November: 2 copies
    expect(months[11]!.storage).to.be.closeTo(monthly(2, 15), 1e-9); // December so far
    expect(months[9]!.storedBytes).to.equal(3 * TIB);
    expect(months[11]!.storedBytes).to.equal(2 * TIB);
  });
});

describe("placement over real stores (SetPlacementTarget over a StoreSet + journal)", function () {
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  async function setup(names: string[]) {
    const root = await mkdtemp(join(tmpdir(), "sv-placement-"));
    dirs.push(root);
    const stores = names.map((n) => new LocalStore({ name: n, dir: join(root, n) }));
    // Pieces are seeded straight onto single backends (bypassing the set), so without a journal
    // entry the set's repair would take every other backend for a lost copy: off here.
    const target = new SetPlacementTarget({ store: new StoreSet({ backends: stores, repair: false }), cdnStateFile: join(root, "placement", "cdn.json") });
    const journal = new PlacementJournal(join(root, "placement", "journal.jsonl"));
    return { root, stores, target, journal };
  }

  it("applies hot, cold, exclusive and backup moves, journals each, and a second run changes nothing", async () => {
    const { stores, target, journal } = await setup(BACKENDS);
    const piece = async (seed: number, on: number[]) => {
      const bytes = testBytes(4096 + seed, seed);
      for (const i of on) await stores[i]!.put(bytes);
      return { pieceCid: computePieceCid(bytes), bytes: bytes.length };
    };
    const hot = { id: "hot", tier: "free" as const, pieces: [await piece(1, [0, 1])] };
    const cold = { id: "cold", tier: "free" as const, pieces: [await piece(2, [0, 1, 2, 3]), await piece(3, [0, 1])] };
    const vip = { id: "vip", tier: "exclusive" as const, pieces: [await piece(4, [2])] };
    const backup = { id: "backup:0", tier: "backup" as const, pieces: [await piece(5, [0, 1, 2, 3, 4, 5])] };
    const items = [hot, cold, vip, backup];
    const plays = { hot: 500, cold: 0, vip: 0 };
    const cfg = placementConfig(target.backends as string[]);

    const dry = await optimizePlacement(items, plays, target, cfg, { apply: false });
    expect(dry.moves.length).to.equal(1 + 3 + 1 + 2 + 1);
    expect(dry.outcome).to.equal(undefined);
    const before = await readCurrentPlacement(items, target);
    expect(before.copies[vip.pieces[0]!.pieceCid]).to.deep.equal(["b3"]);

    const first = await optimizePlacement(items, plays, target, cfg, { apply: true, journal, by: "test" });
    expect(first.outcome!.failed).to.deep.equal([]);
    expect(first.outcome!.applied).to.have.length(dry.moves.length);
    const after = await readCurrentPlacement(items, target);
    expect(after.cdn).to.deep.equal({ hot: true, cold: false, vip: false, "backup:0": false });
    expect(after.copies[cold.pieces[0]!.pieceCid]).to.deep.equal(["b1"]);
    expect(after.copies[cold.pieces[1]!.pieceCid]).to.deep.equal(["b1"]);
    expect(after.copies[vip.pieces[0]!.pieceCid]).to.deep.equal(["b1", "b2", "b3"]);
    expect(after.copies[backup.pieces[0]!.pieceCid]).to.deep.equal(["b1", "b2", "b3", "b4", "b5"]);
    // The copies are real: bytes readable (verified) from a backend that did not have them.
    expect(computePieceCid(await stores[0]!.get(vip.pieces[0]!.pieceCid))).to.equal(vip.pieces[0]!.pieceCid);
    expect(await stores[3]!.has(cold.pieces[0]!.pieceCid)).to.equal(false);

    const entries = journal.entries();
    expect(entries).to.have.length(dry.moves.length);
    for (const e of entries) expect(e).to.include.keys("at", "itemId", "kind", "from", "to", "reason", "monthlySaving", "bytes");
    expect(entries.find((e) => e.itemId === "vip" && e.kind === "add-copy")).to.include({ source: "b3", by: "test" });

    const second = await optimizePlacement(items, plays, target, cfg, { apply: true, journal, by: "test" });
    expect(second.moves).to.deep.equal([]);
    expect(journal.entries()).to.have.length(entries.length);
    expect(await readCurrentPlacement(items, target)).to.deep.equal(after);
  });

  it("re-applying a stale plan skips moves already done and never drops below the target", async () => {
    const { stores, target, journal } = await setup(["b1", "b2", "b3"]);
    const bytes = testBytes(3000, 9);
    for (const s of stores) await s.put(bytes);
    const cid = computePieceCid(bytes);
    const items = [item("old", "free", [[cid, bytes.length]])];
    const plan = planPlacement(items, {}, await readCurrentPlacement(items, target), placementConfig(["b1", "b2", "b3"]));
    expect(plan).to.have.length(2);
    const first = await applyPlacement(plan, target, journal, { by: "test" });
    expect(first.applied).to.have.length(2);
    const again = await applyPlacement(plan, target, journal, { by: "test" });
    expect(again.applied).to.deep.equal([]);
    expect(again.skipped.map((s) => s.why)).to.deep.equal(["already gone from b3", "already gone from b2"]);
    // A plan that would drop the last copy is refused by the live check.
    const unsafe = [{ ...plan[0]!, backend: "b1", targetCopies: 1 }];
    expect((await applyPlacement(unsafe, target, journal, { by: "test" })).skipped[0]!.why).to.equal("only 1 copy left");
    expect(await target.copiesOf(cid)).to.deep.equal(["b1"]);
    expect(journal.entries()).to.have.length(2);
  });

  it("never copies corrupt bytes: a copy is read verified, from another backend when the first one lies", async () => {
    const root = await mkdtemp(join(tmpdir(), "sv-placement-bad-"));
    dirs.push(root);
    const good = new LocalStore({ name: "good", dir: join(root, "good") });
    const liar = faultyStore(new LocalStore({ name: "liar", dir: join(root, "liar") }), { corruptReadRate: 1, seed: 3 });
    const empty = new LocalStore({ name: "empty", dir: join(root, "empty") });
    const bytes = testBytes(2048, 4);
    await good.put(bytes);
    await liar.put(bytes);
    const cid = computePieceCid(bytes);
    // The liar is read first; its bytes fail the PieceCID check and the good copy is used.
    const target = new SetPlacementTarget({ store: new StoreSet({ backends: [liar, good, empty], repair: false }), cdnStateFile: join(root, "cdn.json") });
    await target.addCopy(cid, "empty", liar.name);
    expect((liar as ReturnType<typeof faultyStore>).injected.corruptions).to.be.greaterThan(0);
    expect(Buffer.from(await empty.get(cid)).equals(Buffer.from(bytes))).to.equal(true);
  });

  it("the studio report: real cost from stored copies, what the policy wants, grouped suggestions, 12 months", async () => {
    const { stores, target, journal } = await setup(["b1", "b2", "b3"]);
    const a = testBytes(5000, 21);
    const b = testBytes(6000, 22);
    for (const s of stores) await s.put(a);
    await stores[0]!.put(b);
    const items = [
      { id: "cold", title: "Cold", tier: "free" as const, uploadedAt: Date.now() - 90 * 24 * 3600 * 1000, pieces: [{ pieceCid: computePieceCid(a), bytes: a.length }] },
      { id: "vip", title: "VIP", tier: "exclusive" as const, uploadedAt: Date.now() - 1000, pieces: [{ pieceCid: computePieceCid(b), bytes: b.length }] },
    ];
    const cfg = placementConfig([...target.backends]);
    const report = await storageReport(items, {}, target, cfg, journal.entries());
    expect(report.items.map((i) => [i.itemId, i.minCopies, i.wantCopies])).to.deep.equal([["cold", 3, 1], ["vip", 1, 3]]);
    expect(report.items[0]!.storage).to.be.closeTo((3 * a.length / TIB) * 2.5, 1e-15);
    expect(report.suggestions.map((s) => `${s.itemId} ${s.kind} ${s.backend}`)).to.deep.equal(["cold drop-copy b3", "cold drop-copy b2", "vip add-copy b2", "vip add-copy b3"]);
    expect(report.suggestedSaving).to.be.closeTo(((2 * a.length - 2 * b.length) / TIB) * 2.5, 1e-15);
    expect(report.history).to.have.length(12);
    expect(report.history.at(-1)!.storage).to.be.greaterThan(0);
    expect(report.backendStats).to.deep.equal([
      { backend: "b1", pieces: 2, bytes: a.length + b.length },
      { backend: "b2", pieces: 1, bytes: a.length },
      { backend: "b3", pieces: 1, bytes: a.length },
    ]);
    await optimizePlacement(items, {}, target, cfg, { apply: true, journal, by: "test" });
    const after = await storageReport(items, {}, target, cfg, journal.entries());
    expect(after.suggestions).to.deep.equal([]);
    // 4 journal lines, one row per item, kind and backend: drop b3, drop b2, add b2, add b3.
    expect(journal.entries()).to.have.length(4);
    expect(after.recentMoves.map((m) => `${m.itemId} ${m.kind} ${m.backend} ${m.pieces}`)).to.deep.equal(["vip add-copy b3 1", "vip add-copy b2 1", "cold drop-copy b2 1", "cold drop-copy b3 1"]);
    expect(after.items.map((i) => i.minCopies)).to.deep.equal([1, 3]);
  });

  it("local-<name> backends: more local disks in one set (STORAGE_LOCAL_<NAME>_DIR), each a copy placement can drop", async () => {
    const root = await mkdtemp(join(tmpdir(), "sv-localdisks-"));
    dirs.push(root);
    const env = { STORAGE_LOCAL_DISK2_DIR: join(root, "disk2"), STORAGE_LOCAL_DISK3_DIR: join(root, "disk3"), STORAGE_STATS: "off" };
    const store = createStore({ backend: "local+local-disk2+local-disk3", dataDir: join(root, "main"), env });
    expect(store).to.be.instanceOf(StoreSet);
    const bytes = testBytes(1000, 2);
    const { pieceCid, mirrors } = await store.put(bytes);
    expect(mirrors!.map((m) => m.backend)).to.deep.equal(["local", "local-disk2", "local-disk3"]);
    expect(await new LocalStore({ dir: join(root, "disk3") }).has(pieceCid)).to.equal(true);
    const target = new SetPlacementTarget({ store, cdnStateFile: join(root, "cdn.json") });
    expect(target.backends).to.deep.equal(["local", "local-disk2", "local-disk3"]);
    expect(await target.copiesOf(pieceCid)).to.deep.equal(["local", "local-disk2", "local-disk3"]);
    await target.dropCopy(pieceCid, "local");
    expect(await target.copiesOf(pieceCid)).to.deep.equal(["local-disk2", "local-disk3"]);
    await target.dropCopy(pieceCid, "local-disk2");
    // The set refuses to drop the last copy, whatever the plan says.
    let refused: Error | undefined;
    await target.dropCopy(pieceCid, "local-disk3").catch((err: Error) => (refused = err));
    expect(refused?.message).to.match(/refusing to remove the last copy/);
    await target.addCopy(pieceCid, "local");
    expect(await target.copiesOf(pieceCid)).to.deep.equal(["local", "local-disk3"]);
    await target.setCdn("x", true);
    expect(JSON.parse(readFileSync(join(root, "cdn.json"), "utf8"))).to.deep.equal({ x: true });
    // A member without its directory is a clear error naming the variable.
    expect(() => createStore({ backend: "local+local-disk9", dataDir: join(root, "main"), env })).to.throw(/backend "local-disk9" needs STORAGE_LOCAL_DISK9_DIR/);
  });

  it("repair in another process follows the placement journal: a dropped copy is not re-made, a lost one is", async () => {
    const root = await mkdtemp(join(tmpdir(), "sv-placementview-"));
    dirs.push(root);
    const env = { STORAGE_LOCAL_D2_DIR: join(root, "d2"), STORAGE_LOCAL_D3_DIR: join(root, "d3"), STORAGE_READ_ORDER: "local-d3,local-d2,local", STORAGE_STATS: "off" };
    const journalFile = join(root, "placement", "journal.jsonl");
    const open = () => createStore({ backend: "local-d2+local+local-d3", dataDir: join(root, "main"), env, placementView: placementView(journalFile) }) as StoreSet;
    const writer = open();
    const a = testBytes(3000, 31);
    const b = testBytes(3100, 32);
    const { pieceCid: cidA } = await writer.put(a);
    const { pieceCid: cidB } = await writer.put(b);
    // optimize drops the cold premium item's third copy (on d3) and journals it.
    const target = new SetPlacementTarget({ store: writer, cdnStateFile: join(root, "cdn.json") });
    const items = [item("cold", "premium", [[cidA, a.length]])];
    const plan = planPlacement(items, {}, await readCurrentPlacement(items, target), placementConfig([...target.backends]));
    expect(plan.map((m) => `${m.kind} ${m.backend}`)).to.deep.equal(["drop-copy local-d3"]);
    await applyPlacement(plan, target, new PlacementJournal(journalFile), { by: "test" });
    // Copies lost by accident: a's on d2, b's on d2 and d3.
    await new LocalStore({ dir: join(root, "d2") }).delete(cidA);
    await new LocalStore({ dir: join(root, "d2") }).delete(cidB);
    await new LocalStore({ dir: join(root, "d3") }).delete(cidB);
    // A fresh process (the web app) reads both through the set: d3, then d2, then local.
    const reader = open();
    expect(reader.readStages.map((s) => s.name)).to.deep.equal(["local-d3", "local-d2", "local"]);
    expect(Buffer.from(await reader.get(cidA)).equals(Buffer.from(a))).to.equal(true);
    expect(Buffer.from(await reader.get(cidB)).equals(Buffer.from(b))).to.equal(true);
    await reader.idle();
    const has = async (cid: string) => (await reader.locate(cid)).filter((l) => l.has).map((l) => l.backend);
    // a: the lost d2 copy is repaired, the d3 copy placement dropped is left dropped; b: both repaired.
    expect(await has(cidA)).to.deep.equal(["local-d2", "local"]);
    expect(await has(cidB)).to.deep.equal(["local-d2", "local", "local-d3"]);
  });
});

import { expect } from "chai";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { LocalStore } from "@streamvault/lib/storage";
import { cliEnv, runCli } from "./helpers.ts";
import { getFixture } from "./fixture.ts";
import type { Fixture } from "./fixture.ts";

/** Every piece file under `root` (relative paths, sorted): what a dry run must leave alone. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === ".tmp") continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

describe("cli: optimize (placement that acts) and the watcher applying it", function () {
  this.timeout(240_000);
  let fx: Fixture;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let ids: string[];
  const copyDir = (i: number) => path.join(home, `copy-${i}`);
  const backends = () => ["pieces", ...[1, 2, 3, 4, 5].map((i) => `copy-${i}`)];
  const holders = (cid: string) => backends().filter((b) => existsSync(new LocalStore({ dir: path.join(home, b) }).pathFor(cid)));
  const journalLines = () => (existsSync(path.join(home, "placement", "journal.jsonl")) ? readFileSync(path.join(home, "placement", "journal.jsonl"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []);
  const piecesOf = (id: string): string[] => {
    const item = JSON.parse(readFileSync(path.join(home, "uploads", "journal.json"), "utf8")).items[id];
    return [...new Set<string>([...item.storedPieces, item.manifestCid])];
  };
  let backupCid: string;

  before(async () => {
    fx = await getFixture();
    // A home of its own with the fixture's catalogue: local pieces + 5 more local backends.
    home = path.join(fx.dir, "placement-home");
    cpSync(path.join(fx.home, "uploads"), path.join(home, "uploads"), { recursive: true });
    cpSync(path.join(fx.home, "pieces"), path.join(home, "pieces"), { recursive: true });
    ids = fx.contentIds.map((id) => id.toLowerCase());
    // Tiers as the creator chose them: a free hit, a free item nobody plays, an exclusive.
    const journalFile = path.join(home, "uploads", "journal.json");
    const journal = JSON.parse(readFileSync(journalFile, "utf8"));
    journal.items[ids[0]!].tier = "free";
    journal.items[ids[1]!].tier = "free";
    journal.items[ids[2]!].tier = "exclusive";
    writeFileSync(journalFile, JSON.stringify(journal, null, 2));
    for (const i of [1, 2, 3, 4, 5]) mkdirSync(copyDir(i), { recursive: true });
    // Everything has a second copy on local-copy1; the cold item a third on local-copy2.
    cpSync(path.join(home, "pieces"), copyDir(1), { recursive: true });
    const local = new LocalStore({ dir: path.join(home, "pieces") });
    const c2 = new LocalStore({ dir: copyDir(2) });
    for (const cid of piecesOf(ids[1]!)) await c2.put(await local.get(cid));
    writeFileSync(path.join(home, "plays.json"), JSON.stringify({ [ids[0]!]: 500, [ids[1]!]: 0, [ids[2]!]: 1 }));
    // Five more local disks as backends of the set: local-copy1 .. local-copy5, each with its directory.
    env = cliEnv(fx.chain, home, {
      STORAGE_BACKEND: ["local", ...[1, 2, 3, 4, 5].map((i) => `local-copy${i}`)].join("+"),
      ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`STORAGE_LOCAL_COPY${i}_DIR`, copyDir(i)])),
    });
    // A catalogue backup written through the 6 backends: 6 copies, one more than backups keep.
    const backup = await runCli(["backup", "--json"], env);
    expect(backup.code, backup.stderr).to.equal(0);
    backupCid = JSON.parse(backup.stdout).pieceCid;
    expect(holders(backupCid)).to.have.length(6);
  });

  it("dry run prints the plan with monthly savings and changes nothing", async () => {
    const before = backends().map((b) => listing(path.join(home, b)));
    const run = await runCli(["optimize"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/saving\/month/);
    expect(run.stdout).to.match(/cdn-on/);
    expect(run.stdout).to.match(/drop-copy/);
    expect(run.stdout).to.match(/dry run: nothing changed/);
    const json = await runCli(["optimize", "--json"], env);
    const plan = JSON.parse(json.stdout);
    expect(plan.backends).to.deep.equal(["local", "local-copy1", "local-copy2", "local-copy3", "local-copy4", "local-copy5"]);
    expect(plan.outcome).to.equal(undefined);
    expect(plan.moves.length).to.be.greaterThan(0);
    expect(backends().map((b) => listing(path.join(home, b)))).to.deep.equal(before);
    expect(existsSync(path.join(home, "placement"))).to.equal(false);
  });

  it("--apply: the hot item gains CDN, the cold one drops to its floor, the exclusive reaches 3 copies, backups stay at 5; every move journaled", async () => {
    const plan = JSON.parse((await runCli(["optimize", "--json"], env)).stdout);
    const run = await runCli(["optimize", "--apply", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout);
    expect(result.outcome.failed).to.deep.equal([]);
    expect(result.outcome.applied).to.have.length(plan.moves.length);

    expect(JSON.parse(readFileSync(path.join(home, "placement", "cdn.json"), "utf8"))).to.deep.equal({ [ids[0]!]: true });
    for (const cid of piecesOf(ids[0]!)) expect(holders(cid)).to.deep.equal(["pieces", "copy-1"]);
    for (const cid of piecesOf(ids[1]!)) expect(holders(cid), cid).to.deep.equal(["pieces"]);
    for (const cid of piecesOf(ids[2]!)) expect(holders(cid), cid).to.deep.equal(["pieces", "copy-1", "copy-2"]);
    expect(holders(backupCid)).to.have.length(5);

    const lines = journalLines();
    expect(lines).to.have.length(plan.moves.length);
    const cdn = lines.find((l) => l.kind === "cdn-on");
    expect(cdn).to.include({ itemId: ids[0], from: "CDN off", to: "CDN on", by: "optimize" });
    expect(cdn.monthlySaving).to.be.below(0);
    const drop = lines.find((l) => l.kind === "drop-copy" && l.itemId === ids[1]);
    expect(drop.monthlySaving).to.be.above(0);
    expect(drop).to.include.keys("at", "pieceCid", "backend", "reason");
    expect(lines.filter((l) => l.kind === "add-copy" && l.itemId === ids[2]).every((l) => l.backend === "local-copy2")).to.equal(true);
  });

  it("re-running optimize --apply changes nothing", async () => {
    const before = backends().map((b) => listing(path.join(home, b)));
    const journalBefore = journalLines();
    const run = await runCli(["optimize", "--apply", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout);
    expect(result.moves).to.deep.equal([]);
    expect(result.outcome.applied).to.deep.equal([]);
    expect(journalLines()).to.deep.equal(journalBefore);
    expect(backends().map((b) => listing(path.join(home, b)))).to.deep.equal(before);
    const human = await runCli(["optimize"], env);
    expect(human.stdout).to.match(/nothing to do/);
  });

  it("watch --once applies the placement: the hit gone cold leaves the CDN and drops to its floor", async () => {
    writeFileSync(path.join(home, "milestones.json"), JSON.stringify({ plays: [], revenue: [], coinHolders: [], passHolders: [], quarterly: false }));
    writeFileSync(path.join(home, "plays.json"), JSON.stringify({ [ids[0]!]: 0, [ids[1]!]: 0, [ids[2]!]: 1 }));
    const run = await runCli(["watch", "--once", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout);
    expect(result.anchored).to.deep.equal([]);
    expect(result.placement.failed).to.deep.equal([]);
    expect(result.placement.applied).to.equal(result.placement.moves);
    expect(JSON.parse(readFileSync(path.join(home, "placement", "cdn.json"), "utf8"))).to.deep.equal({});
    for (const cid of piecesOf(ids[0]!)) expect(holders(cid)).to.deep.equal(["pieces"]);
    const byWatch = journalLines().filter((l) => l.by === "watch");
    expect(byWatch.map((l) => l.kind)).to.include.members(["cdn-off", "drop-copy"]);
    // --no-placement leaves it alone.
    writeFileSync(path.join(home, "plays.json"), JSON.stringify({ [ids[0]!]: 500 }));
    const off = await runCli(["watch", "--once", "--json", "--no-placement"], env);
    expect(JSON.parse(off.stdout).placement).to.equal(undefined);
    expect(JSON.parse(readFileSync(path.join(home, "placement", "cdn.json"), "utf8"))).to.deep.equal({});
  });

  it("bad options get a usage error that says what is wrong", async () => {
    const run = await runCli(["optimize", "--window-days", "0"], env);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/--window-days must be more than 0/);
  });
});

import { expect } from "chai";
import { readdirSync, readFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Hex } from "viem";
import { contractOf } from "@streamvault/lib/deployments";
import { parseManifest } from "@streamvault/lib/manifest";
import { LocalStore } from "@streamvault/lib/storage";
import { cliEnv, killAllChildren, makeTone, runCli, startCli } from "./helpers.ts";
import type { TestChain } from "./helpers.ts";
import { freshChain } from "./fixture.ts";

interface JournalJson {
  items: Record<string, { state: string; storedPieces: string[]; manifestCid?: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("cli: resumable uploads (kill -9, storage faults)", function () {
  this.timeout(300_000);
  let dir: string;
  let chain: TestChain;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const journalFile = () => path.join(home, "uploads", "journal.json");
  const readJournal = (): JournalJson => {
    try {
      return JSON.parse(readFileSync(journalFile(), "utf8")) as JournalJson;
    } catch {
      return { items: {} };
    }
  };

  let dispose: () => void = () => undefined;

  before(async () => {
    ({ dir, chain, dispose } = await freshChain("sv-resume-"));
    home = path.join(dir, "home");
    env = cliEnv(chain, home);
  });
  after(() => {
    killAllChildren();
    dispose();
  });

  async function registrations(): Promise<Hex[]> {
    const ca = contractOf(chain.deployment, "ContentAccess");
    const logs = await chain.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", fromBlock: 0n });
    return logs.map((l) => l.args.contentId!);
  }

  /** Every stored piece is referenced by a registered manifest (nothing stored twice under another ciphertext). */
  function assertNoOrphanPieces(): void {
    const store = new LocalStore({ dir: path.join(home, "pieces") });
    const stored = new Set<string>();
    for (const sub of readdirSync(store.dir)) {
      if (sub === ".tmp") continue;
      for (const f of readdirSync(path.join(store.dir, sub))) stored.add(f);
    }
    const referenced = new Set<string>();
    for (const item of Object.values(readJournal().items)) {
      if (!item.manifestCid) continue;
      referenced.add(item.manifestCid);
      const m = parseManifest(readFileSync(store.pathFor(item.manifestCid)));
      for (const v of m.variants) for (const s of v.segments) referenced.add(s.pieceCid);
      for (const a of m.artwork) referenced.add(a.pieceCid);
    }
    expect([...stored].sort()).to.deep.equal([...referenced].sort());
  }

  it("killed with SIGKILL mid-batch, a re-run finishes: every item registered exactly once, no duplicate pieces, correct summary", async () => {
    const batch = path.join(dir, "batch");
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => makeTone(path.join(batch, `track-${i}.wav`), 5, 300 + 70 * i)));
    const slow = { ...env, STREAMVAULT_FAULTY_LATENCY_MS: "120" };
    const run = startCli(["upload", batch, "--concurrency", "1"], slow);
    // Wait until one item is registered and another is part-way through storing its pieces.
    const deadline = Date.now() + 180_000;
    let killedAt: JournalJson | undefined;
    while (Date.now() < deadline) {
      const items = Object.values(readJournal().items);
      const registered = items.filter((i) => i.state === "registered").length;
      const midway = items.some((i) => i.state !== "registered" && i.storedPieces.length > 0);
      if (registered >= 1 && midway) {
        process.kill(-run.child.pid!, "SIGKILL");
        killedAt = readJournal();
        break;
      }
      if (run.child.exitCode !== null) break;
      await sleep(40);
    }
    const killed = await run.done;
    expect(killedAt, `never caught the run mid-way; output:\n${run.output()}`).to.not.equal(undefined);
    expect(killed.code, "killed by a signal").to.equal(128);
    const doneBefore = Object.values(killedAt!.items).filter((i) => i.state === "registered").length;
    expect(doneBefore).to.be.within(1, 5);
    expect(await registrations()).to.have.length.within(doneBefore, 5);

    const rerun = await runCli(["upload", batch, "--concurrency", "2", "--json"], env);
    expect(rerun.code, rerun.stderr).to.equal(0);
    const summary = JSON.parse(rerun.stdout);
    expect(summary).to.include({ succeeded: 6, failed: 0, total: 6 });
    expect(summary.alreadyDone).to.be.at.least(doneBefore);
    const ids = await registrations();
    expect(ids).to.have.length(6);
    expect(new Set(ids).size).to.equal(6);
    expect(new Set(summary.items.map((i: { contentId: Hex }) => i.contentId))).to.deep.equal(new Set(ids));
    assertNoOrphanPieces();
    // Work directories are removed once items are registered.
    expect(existsSync(path.join(home, "uploads", "work")) ? readdirSync(path.join(home, "uploads", "work")) : []).to.have.length(0);
  });

  it("a second upload in the same home while one runs is refused (exit 6)", async () => {
    const lock = path.join(home, "uploads", "lock");
    writeFileSync(lock, String(process.pid)); // a live process holds the lock
    try {
      const busy = await runCli(["upload", path.join(dir, "batch")], env);
      expect(busy.code).to.equal(6);
      expect(busy.stderr).to.match(/another streamvault upload \(pid \d+\)/);
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it("after a chain reset, items the journal calls registered are registered again without re-uploading", async () => {
    const { chain: other, dispose: disposeOther } = await freshChain("sv-reset-");
    const run = await runCli(["upload", path.join(dir, "batch"), "--json"], cliEnv(other, home));
    expect(run.code, run.stderr).to.equal(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).to.include({ succeeded: 6, failed: 0, alreadyDone: 0, piecesUploaded: 0 });
    const ca = contractOf(other.deployment, "ContentAccess");
    const logs = await other.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", fromBlock: 0n });
    expect(logs).to.have.length(6);
    disposeOther();
  });

  it("a storage backend failing 35% of writes: the run retries and finishes", async () => {
    const batch = path.join(dir, "faulty");
    await Promise.all([0, 1].map((i) => makeTone(path.join(batch, `f-${i}.wav`), 5, 900 + 50 * i)));
    const before = (await registrations()).length;
    // Per-file settings from a metadata file: f-0 is exclusive, priced in the stablecoin, with a collaborator.
    const stable = chain.deployment.contracts.MockStablecoin!.address;
    const collaborator = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    const metadata = path.join(dir, "meta.json");
    writeFileSync(metadata, JSON.stringify({ defaults: { tier: "free" }, items: { "f-0.wav": { tier: "exclusive", price: "2.5", token: stable, duration: 3600, collaborators: [{ account: collaborator, shareBps: 2500 }] } } }));
    const run = await runCli(["upload", batch, "--metadata", metadata], { ...env, STREAMVAULT_FAULTY_WRITE_RATE: "0.35", STREAMVAULT_FAULTY_SEED: "7" });
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(run.stderr).to.match(/retry .*injected write fault/);
    expect(run.stdout).to.match(/Summary: 2 succeeded .* 0 failed, 2 total/);
    expect(await registrations()).to.have.length(before + 2);
    const ca = contractOf(chain.deployment, "ContentAccess");
    const journal = Object.values(readJournal().items) as unknown as { source: string; contentId: Hex }[];
    const exclusive = journal.find((i) => i.source.endsWith("f-0.wav"))!;
    const [, tier, , rules, collaborators] = await chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [exclusive.contentId] });
    expect(tier).to.equal(2);
    expect(rules).to.deep.include({ paymentToken: stable, price: 2_500_000n, duration: 3600 });
    expect(collaborators).to.deep.equal([{ account: collaborator, shareBps: 2500 }]);
    const free = journal.find((i) => i.source.endsWith("f-1.wav"))!;
    const [, freeTier] = await chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [free.contentId] });
    expect(freeTier).to.equal(0);
  });

  it("writes failing without retries: failures are reported (exit 1) and a re-run completes", async () => {
    const batch = path.join(dir, "broken-storage");
    await Promise.all([0, 1].map((i) => makeTone(path.join(batch, `b-${i}.wav`), 5, 1200 + 50 * i)));
    const before = (await registrations()).length;
    const failing = await runCli(["upload", batch, "--retries", "0", "--json"], { ...env, STREAMVAULT_FAULTY_WRITE_RATE: "0.9", STREAMVAULT_FAULTY_SEED: "3" });
    expect(failing.code).to.equal(1);
    const s1 = JSON.parse(failing.stdout);
    expect(s1.failed).to.be.greaterThan(0);
    expect(s1.items.find((i: { ok: boolean }) => !i.ok).error).to.match(/injected write fault/);
    const rerun = await runCli(["upload", batch, "--json"], env);
    expect(rerun.code, rerun.stderr).to.equal(0);
    expect(JSON.parse(rerun.stdout)).to.include({ succeeded: 2, failed: 0 });
    const ids = await registrations();
    expect(ids).to.have.length(before + 2);
    expect(new Set(ids).size).to.equal(ids.length);
    assertNoOrphanPieces();
  });
});

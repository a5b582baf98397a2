import { expect } from "chai";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { contractOf } from "@streamvault/lib/deployments";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { cliEnv, killAllChildren, makeTone, runCli } from "./helpers.ts";
import type { CliRun, TestChain } from "./helpers.ts";
import { freshChain } from "./fixture.ts";

interface SummaryItem {
  file: string;
  ok: boolean;
  outcome?: string;
  duplicateOf?: string;
  contentId?: string;
  manifestCid?: string;
  warnings?: { code: string; message: string }[];
}
interface Summary {
  succeeded: number;
  duplicates: number;
  failed: number;
  total: number;
  alreadyDone: number;
  items: SummaryItem[];
}

describe("cli: upload batch report (identical files, silent audio)", function () {
  this.timeout(300_000);
  let dir: string;
  let chain: TestChain;
  let env: NodeJS.ProcessEnv;
  let batch: string;
  /** the first upload of the batch (text output) */
  let first: CliRun;
  let dispose: () => void = () => undefined;
  const byName = (summary: Summary, name: string) => summary.items.find((i) => path.basename(i.file) === name)!;

  before(async () => {
    ({ dir, chain, dispose } = await freshChain("sv-batch-report-"));
    env = cliEnv(chain, path.join(dir, "home"));
    batch = path.join(dir, "batch");
    mkdirSync(batch, { recursive: true });
    await Promise.all([
      makeTone(path.join(batch, "a-take.wav"), 4, 610),
      makeTone(path.join(batch, "d-other.wav"), 4, 730),
      // Four seconds of digital silence: accepted, with a warning.
      runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "4", path.join(batch, "e-silence.wav")]),
    ]);
    // Two byte-identical copies of the first file, named so that they sort after it.
    copyFileSync(path.join(batch, "a-take.wav"), path.join(batch, "b-take-copy.wav"));
    copyFileSync(path.join(batch, "a-take.wav"), path.join(batch, "c-take-copy.wav"));
  });
  after(() => {
    killAllChildren();
    dispose();
  });

  it("reports each copy as DUPLICATE of the first file by name order, registers the item once, exits 0; a re-run says the same and exits 0", async () => {
    first = await runCli(["upload", batch, "--concurrency", "3"], env);
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    expect(first.stdout).to.match(/dup {4}b-take-copy\.wav {2}DUPLICATE of a-take\.wav \(same bytes/);
    expect(first.stdout).to.match(/dup {4}c-take-copy\.wav {2}DUPLICATE of a-take\.wav \(same bytes/);
    expect(first.stdout).not.to.match(/FAILED/);
    expect(first.stdout).to.match(/Summary: 3 succeeded \(0 already done earlier\), 2 duplicates \(uploaded once\), 0 failed, 5 total/);
    const written = JSON.parse(readFileSync(path.join(dir, "home", "uploads", "summary.json"), "utf8")) as Summary;
    expect(written).to.include({ succeeded: 3, duplicates: 2, failed: 0, total: 5 });
    const original = byName(written, "a-take.wav");
    for (const name of ["b-take-copy.wav", "c-take-copy.wav"]) {
      const copy = byName(written, name);
      expect(copy).to.include({ ok: true, outcome: "duplicate", duplicateOf: original.file, contentId: original.contentId, manifestCid: original.manifestCid });
    }
    const ca = contractOf(chain.deployment, "ContentAccess");
    const registered = await chain.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", fromBlock: 0n });
    expect(registered.filter((l) => l.args.contentId === original.contentId)).to.have.length(1);
    expect(registered).to.have.length(3);

    for (let run = 0; run < 2; run++) {
      const again = await runCli(["upload", batch, "--concurrency", "3", "--json"], env);
      expect(again.code, again.stderr).to.equal(0);
      const summary = JSON.parse(again.stdout) as Summary;
      expect(summary).to.include({ succeeded: 3, alreadyDone: 3, duplicates: 2, failed: 0 });
      expect(byName(summary, "b-take-copy.wav")).to.include({ outcome: "duplicate", duplicateOf: original.file });
      expect(byName(summary, "c-take-copy.wav")).to.include({ outcome: "duplicate", duplicateOf: original.file });
    }
  });

  it("warns about a file that is silent for most of its length (printed, in the JSON summary, and again on a re-run), without failing it", async () => {
    expect(first.stdout).to.match(/ok {5}e-silence\.wav .*\nwarn {3}e-silence\.wav: the audio is silent for 4\.0 s of 4\.0 s \(100 %/);
    expect(first.stdout.match(/^warn /gm)).to.have.length(1);
    // A re-run reads the warning back from the journal (nothing is processed again).
    const again = await runCli(["upload", path.join(batch, "e-silence.wav")], env);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/\(done in an earlier run\)\nwarn {3}e-silence\.wav: the audio is silent/);
    const json = JSON.parse((await runCli(["upload", batch, "--json"], env)).stdout) as Summary;
    const silent = byName(json, "e-silence.wav");
    expect(silent.ok).to.equal(true);
    expect(silent.warnings?.map((w) => w.code)).to.deep.equal(["mostly-silent"]);
    for (const name of ["a-take.wav", "d-other.wav"]) expect(byName(json, name).warnings, name).to.equal(undefined);
  });
});

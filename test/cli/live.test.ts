import { expect } from "chai";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CID } from "multiformats/cid";
import { bytesToHex } from "viem";
import { decryptSegment, fromHex } from "@streamvault/lib/crypto";
import { contractOf } from "@streamvault/lib/deployments";
import { openKeyStore } from "@streamvault/lib/keys";
import { parseManifest } from "@streamvault/lib/manifest";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { LocalStore } from "@streamvault/lib/storage";
import { MASTER_KEY, runCli, startCli } from "./helpers.ts";
import { getFixture } from "./fixture.ts";
import type { Fixture } from "./fixture.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ChunkEvent {
  event: string;
  index: number;
  status: string;
}

describe("cli: live archiving", function () {
  this.timeout(240_000);
  let fx: Fixture;
  let source: Buffer;

  before(async () => {
    fx = await getFixture();
    const file = path.join(fx.dir, "live-source.ts");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=660:d=22:r=44100", "-ac", "2", "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", file]);
    source = readFileSync(file);
  });

  async function registeredManifest(contentId: `0x${string}`, manifestCid: string): Promise<void> {
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const [, , manifest] = await fx.chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [contentId] });
    expect(manifest).to.equal(bytesToHex(CID.parse(manifestCid).bytes));
  }

  it("archives a growing file as ~10 s chunks uploaded as they close, completes when it stops growing, registers it", async () => {
    const growing = path.join(fx.dir, "growing.ts");
    const part = Math.ceil(source.length / 4);
    writeFileSync(growing, source.subarray(0, part));
    const run = startCli(["live", growing, "--id", "show-1", "--title", "Live one", "--idle-timeout", "2", "--json"], fx.env);
    for (let i = 1; i < 4; i++) {
      await sleep(700);
      appendFileSync(growing, source.subarray(i * part, (i + 1) * part));
    }
    const done = await run.done;
    expect(done.code, done.stderr).to.equal(0);
    const events = done.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const final = events.at(-1);
    expect(final.event).to.equal("done");
    expect(final.status).to.equal("complete");
    expect(final.chunks).to.have.length(3); // 10 s + 10 s + 2 s
    expect(final.chunks.every((c: { status: string }) => c.status === "uploaded")).to.equal(true);
    const statuses = (events.filter((e: ChunkEvent) => e.event === "chunk") as ChunkEvent[]).filter((e) => e.index === 0).map((e) => e.status);
    expect(statuses).to.include.members(["pending", "uploading", "uploaded"]);
    await registeredManifest(final.contentId, final.manifestCid);

    const store = new LocalStore({ dir: path.join(fx.home, "pieces") });
    const manifest = parseManifest(await store.get(final.manifestCid));
    expect(manifest.duration).to.be.closeTo(22, 1);
    const live = manifest.variants[0]!;
    expect(live.encrypted).to.equal(true);
    const keys = await openKeyStore({ dataDir: path.join(fx.home, "keys"), masterKey: MASTER_KEY });
    try {
      const key = (await keys.getKey(final.contentId))!;
      const seg = live.segments[1]!;
      const plain = decryptSegment(key, fromHex(seg.nonce!), { contentId: manifest.contentId, variant: "live", index: 1 }, await store.get(seg.pieceCid));
      expect(plain[0]).to.equal(0x47);
    } finally {
      await keys.close();
    }

    const status = await runCli(["live-status", "show-1", "--json"], fx.env);
    expect(status.code).to.equal(0);
    expect(JSON.parse(status.stdout)).to.include({ status: "complete", manifestCid: final.manifestCid });
    const table = await runCli(["live-status", "show-1"], fx.env);
    expect(table.stdout).to.match(/uploaded/);
    const missing = await runCli(["live-status", "nope"], fx.env);
    expect(missing.code).to.equal(4);
  });

  it("archives stdin with failing storage writes: chunks retry and the archive completes", async () => {
    const run = startCli(["live", "-", "--id", "show-2", "--tier", "free", "--json"], { ...fx.env, STREAMVAULT_FAULTY_WRITE_RATE: "0.4", STREAMVAULT_FAULTY_SEED: "3" }, { stdin: "pipe" });
    run.child.stdin!.end(source);
    const done = await run.done;
    expect(done.code, done.stderr).to.equal(0);
    const events = done.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const final = events.at(-1);
    expect(final.status).to.equal("complete");
    expect(final.chunks).to.have.length(3);
    expect(events.some((e: ChunkEvent) => e.event === "chunk" && e.status === "retrying")).to.equal(true);
    await registeredManifest(final.contentId, final.manifestCid);
    const manifest = parseManifest(await new LocalStore({ dir: path.join(fx.home, "pieces") }).get(final.manifestCid));
    expect(manifest.variants[0]!.encrypted).to.equal(false);
  });

  it("an archive killed with SIGKILL reads as interrupted and continues with the same id, keeping stored chunks", async () => {
    const first = path.join(fx.dir, "session-1.ts");
    const second = path.join(fx.dir, "session-2.ts");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=770:d=12:r=44100", "-ac", "2", "-c:a", "aac", "-f", "mpegts", first]);
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=880:d=12:r=44100", "-ac", "2", "-c:a", "aac", "-f", "mpegts", second]);
    const stateFile = path.join(fx.home, "live", "show-3", "state.json");
    const run = startCli(["live", first, "--id", "show-3", "--idle-timeout", "60"], fx.env);
    let stored: { index: number; pieceCid: string } | undefined;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !stored; await sleep(100)) {
      try {
        stored = JSON.parse(readFileSync(stateFile, "utf8")).chunks.find((c: { status: string }) => c.status === "uploaded");
      } catch {
        // not written yet
      }
    }
    expect(stored, run.output()).to.not.equal(undefined);
    process.kill(-run.child.pid!, "SIGKILL");
    await run.done;
    const interrupted = await runCli(["live-status", "show-3", "--json"], fx.env);
    expect(JSON.parse(interrupted.stdout).status).to.equal("interrupted");

    const resumed = await runCli(["live", second, "--id", "show-3", "--idle-timeout", "1", "--json"], fx.env);
    expect(resumed.code, resumed.stderr).to.equal(0);
    const final = JSON.parse(resumed.stdout.trim().split("\n").at(-1)!);
    expect(final).to.include({ status: "complete", sessions: 2 });
    expect(final.chunks).to.have.length(3); // 10 s from session 1, then 10 s + 2 s from session 2
    expect(final.chunks[0]).to.include({ index: 0, pieceCid: stored!.pieceCid });
    expect(final.chunks.map((c: { index: number }) => c.index)).to.deep.equal([0, 1, 2]);
    await registeredManifest(final.contentId, final.manifestCid);
    const manifest = parseManifest(await new LocalStore({ dir: path.join(fx.home, "pieces") }).get(final.manifestCid));
    expect(manifest.duration).to.be.closeTo(22, 1.5);
  });
});

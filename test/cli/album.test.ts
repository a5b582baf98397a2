import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { contractOf } from "@streamvault/lib/deployments";
import { cidFromBytes } from "@streamvault/lib/chain/cid.ts";
import { parseManifest } from "@streamvault/lib/manifest";
import { LocalStore } from "@streamvault/lib/storage";
import type { Hex } from "viem";
import { cliEnv, makeTone, runCli } from "./helpers.ts";
import { freshChain } from "./fixture.ts";

/** `upload --as-album`: several files as ONE release (one content id, one registration), resumable; `edit` renames the album and its tracks. */
describe("cli: albums (upload --as-album, edit --track-title)", function () {
  this.timeout(240_000);
  // A chain of its own: the shared fixture's creator catalogue stays what the backup and escrow suites count.
  let fx: Awaited<ReturnType<typeof freshChain>>;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let store: LocalStore;
  let files: string[];
  let args: string[];
  let contentId: Hex;

  before(async () => {
    fx = await freshChain("sv-cli-album-");
    home = path.join(fx.dir, "home-album");
    env = cliEnv(fx.chain, home);
    store = new LocalStore({ dir: path.join(home, "pieces") });
    const dir = path.join(fx.dir, "tide");
    files = [path.join(dir, "b-first.wav"), path.join(dir, "a-second.wav"), path.join(dir, "c-third.flac")];
    await Promise.all([makeTone(files[0]!, 4, 900), makeTone(files[1]!, 5, 910), makeTone(files[2]!, 3, 920)]);
    const meta = path.join(dir, "meta.json");
    await writeFile(meta, JSON.stringify({ items: { "a-second.wav": { title: "Undertow" } } }));
    // Files in the order given (not sorted): that is the track order.
    args = ["upload", "--as-album", "Tide Tables", ...files, "--metadata", meta, "--artist", "Mara Lee", "--tier", "premium", "--price", "0.01", "--json"];
  });

  after(() => fx?.dispose());

  const manifestOnChain = async () => {
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const [, , manifest] = await fx.chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [contentId] });
    return parseManifest(await store.get(cidFromBytes(manifest)));
  };

  it("uploads the files as one album: one item registered once, tracks in the order given with tag/metadata titles, album-level tags", async () => {
    const run = await runCli(args, env);
    expect(run.code, run.stderr).to.equal(0);
    const summary = JSON.parse(run.stdout) as { total: number; succeeded: number; items: { contentId: Hex; manifestCid: string; album: { title: string; tracks: number }; outcome: string }[] };
    expect(summary).to.include({ total: 1, succeeded: 1 });
    const [item] = summary.items;
    expect(item!.album).to.deep.equal({ title: "Tide Tables", tracks: 3 });
    expect(item!.outcome).to.equal("registered");
    contentId = item!.contentId;
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const logs = await fx.chain.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", fromBlock: 0n, args: { contentId } });
    expect(logs).to.have.length(1);
    const m = await manifestOnChain();
    expect(m.tags).to.include({ title: "Tide Tables", album: "Tide Tables", artist: "Mara Lee", trackTotal: 3 });
    expect(m.tracks!.map((t) => [t.number, t.title])).to.deep.equal([[1, "Tone 900"], [2, "Undertow"], [3, "Tone 920"]]);
    expect(m.tracks!.map((t) => Math.round(t.duration))).to.deep.equal([4, 5, 3]);
    expect(m.variants.every((v) => /^t[123]-(high|standard|preview)$/.test(v.name))).to.equal(true);
  });

  it("running the same command again stores and registers nothing (resumed from the journal)", async () => {
    const run = await runCli(args, env);
    expect(run.code, run.stderr).to.equal(0);
    const summary = JSON.parse(run.stdout) as { alreadyDone: number; piecesUploaded: number; items: { contentId: Hex; outcome: string }[] };
    expect(summary).to.include({ alreadyDone: 1, piecesUploaded: 0 });
    expect(summary.items[0]).to.include({ contentId, outcome: "resumed" });
  });

  it("edit renames the album (title and album tag) and a track; the media stay the same pieces", async () => {
    const before = await manifestOnChain();
    const run = await runCli(["edit", contentId, "--title", "Tide Tables (Deluxe)", "--track-title", "3=Low Water", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout).tracks).to.deep.equal([{ number: 1, title: "Tone 900" }, { number: 2, title: "Undertow" }, { number: 3, title: "Low Water" }]);
    const after = await manifestOnChain();
    expect(after.tags).to.include({ title: "Tide Tables (Deluxe)", album: "Tide Tables (Deluxe)" });
    expect(after.tracks![2]!.title).to.equal("Low Water");
    expect(after.variants).to.deep.equal(before.variants);
    const bad = await runCli(["edit", contentId, "--track-title", "7=Nope"], env);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/tracks 1-3, not a track 7/);
  });

  it("an album whose storage writes fail stays resumable: the re-run finishes it without storing again what was stored, registered once", async () => {
    const dir = path.join(fx.dir, "faulty-album");
    const tracks = [path.join(dir, "1.wav"), path.join(dir, "2.wav")];
    await Promise.all([makeTone(tracks[0]!, 4, 1300), makeTone(tracks[1]!, 4, 1310)]);
    const upload = ["upload", "--as-album", "Fault Lines", ...tracks, "--tier", "premium", "--price", "0.01", "--json"];
    const failing = await runCli([...upload, "--retries", "0"], { ...env, STREAMVAULT_FAULTY_WRITE_RATE: "0.3", STREAMVAULT_FAULTY_SEED: "5" });
    expect(failing.code).to.equal(1);
    const first = JSON.parse(failing.stdout) as { failed: number; items: { contentId: Hex; error: string }[] };
    expect(first.failed).to.equal(1);
    expect(first.items[0]!.error).to.match(/injected write fault/);
    const rerun = await runCli(upload, env);
    expect(rerun.code, rerun.stderr).to.equal(0);
    const second = JSON.parse(rerun.stdout) as { succeeded: number; items: { contentId: Hex; piecesSkipped: number }[] };
    expect(second.succeeded).to.equal(1);
    expect(second.items[0]!.contentId).to.equal(first.items[0]!.contentId);
    // what the failed run stored is not stored again (the journal has it; the same ciphertext is reused)
    expect(second.items[0]!.piecesSkipped).to.be.greaterThan(0);
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const logs = await fx.chain.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", fromBlock: 0n, args: { contentId: second.items[0]!.contentId } });
    expect(logs).to.have.length(1);
  });

  it("refuses an album of one file, and per-track flags, saying what to do", async () => {
    const one = await runCli(["upload", "--as-album", "Solo", files[0]!, "--json"], env);
    expect(one.code).to.equal(2);
    expect(one.stderr).to.match(/one release of several tracks.*without --as-album/);
    const title = await runCli(["upload", "--as-album", "Tide", ...files, "--title", "X"], env);
    expect(title.code).to.equal(2);
    expect(title.stderr).to.match(/track titles go in --metadata/);
  });
});

import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { CID } from "multiformats/cid";
import { bytesToHex, type Hex } from "viem";
import { contractOf } from "@streamvault/lib/deployments";
import { parseManifest } from "@streamvault/lib/manifest";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { LocalStore } from "@streamvault/lib/storage";
import { cliEnv, makeTone, runCli } from "./helpers.ts";
import { getFixture } from "./fixture.ts";
import type { Fixture } from "./fixture.ts";

/** Release metadata at upload (flags over tags, file name for untagged files) and `edit` later (updateManifest). */
describe("cli: release metadata (upload --title/--artist/--album/--track/--description/--artwork, edit)", function () {
  this.timeout(240_000);
  let fx: Fixture;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let store: LocalStore;
  let cover: string;

  before(async () => {
    fx = await getFixture();
    home = path.join(fx.dir, "home-release");
    env = cliEnv(fx.chain, home);
    store = new LocalStore({ dir: path.join(home, "pieces") });
    cover = path.join(fx.dir, "release", "cover.png");
    await mkdir(path.dirname(cover), { recursive: true });
    await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toFile(cover);
  });

  const manifestOnChain = async (id: Hex) => {
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const [, , manifest] = await fx.chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [id] });
    return manifest;
  };

  it("an untagged file is titled after its name; a tagged one keeps its tags (artist, album, track)", async () => {
    const untagged = path.join(fx.dir, "release", "Night Drive.wav");
    await mkdir(path.dirname(untagged), { recursive: true });
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=700:d=4:r=44100", "-ac", "2", "-map_metadata", "-1", "-fflags", "+bitexact", untagged]);
    const tagged = path.join(fx.dir, "release-tagged", "t.flac");
    await mkdir(path.dirname(tagged), { recursive: true });
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=710:d=4:r=44100", "-ac", "2", "-metadata", "title=Tagged Song", "-metadata", "artist=Tag Artist", "-metadata", "album=Tag Album", "-metadata", "track=4", tagged]);
    for (const [file, expected] of [
      [untagged, { title: "Night Drive" }],
      [tagged, { title: "Tagged Song", artist: "Tag Artist", album: "Tag Album", trackNumber: 4 }],
    ] as const) {
      const run = await runCli(["upload", file, "--tier", "free", "--json"], env);
      expect(run.code, run.stderr).to.equal(0);
      const item = (JSON.parse(run.stdout) as { items: { manifestCid: string }[] }).items[0]!;
      expect(parseManifest(await store.get(item.manifestCid)).tags).to.include(expected);
    }
  });

  it("upload flags set title, artist, album, track, description and the cover over the file's tags", async () => {
    const file = path.join(fx.dir, "release", "flags.wav");
    await makeTone(file, 4, 720); // tagged "Tone 720"
    const run = await runCli(["upload", file, "--tier", "premium", "--price", "0.01", "--title", "First Light", "--artist", "Aurora Kim", "--album", "Dawn", "--track", "2", "--description", "Recorded at sunrise.", "--artwork", cover, "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    const item = (JSON.parse(run.stdout) as { items: { manifestCid: string; contentId: Hex }[] }).items[0]!;
    const manifest = parseManifest(await store.get(item.manifestCid));
    expect(manifest.tags).to.include({ title: "First Light", artist: "Aurora Kim", album: "Dawn", trackNumber: 2, description: "Recorded at sunrise." });
    expect(manifest.artwork.map((a) => [a.size, a.width, a.height])).to.deep.equal([[600, 600, 450], [200, 200, 150]]);
    const list = await runCli(["list", "--json"], env);
    expect((JSON.parse(list.stdout) as { contentId: string; title: string }[]).find((i) => i.contentId === item.contentId)?.title).to.equal("First Light");
  });

  it("edit renames a release: a new manifest over the same media pieces goes on chain; the journal follows", async () => {
    const file = path.join(fx.dir, "release", "rename.wav");
    await makeTone(file, 4, 730);
    const up = await runCli(["upload", file, "--tier", "premium", "--price", "0.01", "--json"], env);
    expect(up.code, up.stderr).to.equal(0);
    const { contentId: id, manifestCid: before } = (JSON.parse(up.stdout) as { items: { manifestCid: string; contentId: Hex }[] }).items[0]!;
    const old = parseManifest(await store.get(before));
    expect(old.tags.title).to.equal("Tone 730");

    const edit = await runCli(["edit", id, "--title", "Renamed", "--album", "Edits", "--artwork", cover, "--json"], env);
    expect(edit.code, edit.stderr).to.equal(0);
    const out = JSON.parse(edit.stdout) as { changed: boolean; manifestCid: string; previousManifestCid: string; txHash: string; title: string };
    expect(out).to.include({ changed: true, previousManifestCid: before, title: "Renamed" });
    expect(out.manifestCid).not.to.equal(before);
    expect(await manifestOnChain(id)).to.equal(bytesToHex(CID.parse(out.manifestCid).bytes));
    const edited = parseManifest(await store.get(out.manifestCid));
    expect(edited.tags).to.include({ title: "Renamed", album: "Edits" });
    expect(edited.editedFrom).to.equal(before);
    expect(edited.variants, "same media pieces, nothing re-encoded").to.deep.equal(old.variants);
    expect(edited.artwork).to.have.length(2);

    // The same details again change nothing (no transaction); a re-upload keeps the edit.
    const again = await runCli(["edit", id, "--title", "Renamed", "--json"], env);
    expect(JSON.parse(again.stdout)).to.include({ changed: false, manifestCid: out.manifestCid });
    const rerun = await runCli(["upload", file, "--tier", "premium", "--price", "0.01", "--json"], env);
    expect(rerun.code, rerun.stderr).to.equal(0);
    expect(await manifestOnChain(id)).to.equal(bytesToHex(CID.parse(out.manifestCid).bytes));
  });

  it("--preview-start cuts the clear 30 s preview from there (moved back when less than 30 s follow); past the end is refused", async () => {
    // 20 s of silence, then 30 s of tone: a preview from the start is half silent, one from 20 s is all tone.
    const file = path.join(fx.dir, "release", "late-drop.wav");
    await runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", "aevalsrc=if(gte(t\\,20)\\,0.5*sin(2*PI*500*t)\\,0):s=44100:d=50", "-ac", "2", file]);
    const run = await runCli(["upload", file, "--tier", "premium", "--price", "0.01", "--preview-start", "45", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    const item = (JSON.parse(run.stdout) as { items: { manifestCid: string }[] }).items[0]!;
    const manifest = parseManifest(await store.get(item.manifestCid));
    const preview = manifest.variants.find((v) => v.role === "preview")!;
    expect(preview.start, "45 s leaves 5 s: moved back to 50 - 30").to.equal(20);
    expect(preview.encrypted).to.equal(false);
    expect(preview.duration).to.be.within(29, 30.1);
    expect(manifest.variants.filter((v) => v.role !== "preview").every((v) => v.start === undefined)).to.equal(true);
    // The preview's audio is the tone throughout: its quietest second is far above silence.
    const joined = path.join(fx.dir, "release", "preview.ts");
    await writeFile(joined, Buffer.concat(await Promise.all(preview.segments.map(async (seg) => Buffer.from(await store.get(seg.pieceCid))))));
    const detect = await runFfmpeg(["-v", "info", "-i", joined, "-af", "silencedetect=n=-40dB:d=1", "-f", "null", "-"]);
    expect(detect.stderr).not.to.match(/silence_start/);

    const past = await runCli(["upload", file, "--tier", "premium", "--preview-start", "60", "--json"], cliEnv(fx.chain, path.join(fx.dir, "home-preview-past")));
    expect(past.code).to.equal(1);
    expect(JSON.parse(past.stdout).items[0].error).to.match(/preview start 60 s is past the end of the 50\.0 s track: choose 0 to 50/);
  });

  it("bad metadata is refused with what to do (exit 2)", async () => {
    const file = path.join(fx.dir, "release", "flags.wav");
    const badTrack = await runCli(["upload", file, "--track", "two"], env);
    expect(badTrack.code).to.equal(2);
    expect(badTrack.stderr).to.match(/track number "two" must be a whole number/);
    const folder = await runCli(["upload", fx.album, "--title", "One name"], env);
    expect(folder.code).to.equal(2);
    expect(folder.stderr).to.match(/--title and --track name one file.*--metadata/);
    const nothing = await runCli(["edit", fx.contentIds[0]!], env);
    expect(nothing.code).to.equal(2);
    expect(nothing.stderr).to.match(/nothing to change: pass --title/);
    const notImage = await runCli(["edit", fx.contentIds[0]!, "--artwork", file], fx.env);
    expect(notImage.code).to.equal(2);
    expect(notImage.stderr).to.match(/is not a readable image/);
  });
});

import { expect } from "chai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CID } from "multiformats/cid";
import { bytesToHex } from "viem";
import type { Hex } from "viem";
import { contractOf } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { decryptManifestSegment } from "@streamvault/lib/crypto";
import { openKeyStore } from "@streamvault/lib/keys";
import { parseManifest } from "@streamvault/lib/manifest";
import { runTool } from "@streamvault/lib/media/ffmpeg.ts";
import { LocalStore } from "@streamvault/lib/storage";
import { CREATOR, MASTER_KEY, makeTone, runCli, cliEnv } from "./helpers.ts";
import { getFixture } from "./fixture.ts";
import type { Fixture } from "./fixture.ts";

describe("cli: streamvault upload (folder, chain registration, playback)", function () {
  this.timeout(240_000);
  let fx: Fixture;

  before(async () => {
    fx = await getFixture();
  });

  async function registeredEvents(): Promise<{ contentId: Hex; manifestCid: Hex }[]> {
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const logs = await fx.chain.publicClient.getContractEvents({ address: ca.address, abi: ca.abi, eventName: "ContentRegistered", fromBlock: 0n });
    // The chain is shared with the other cli suites in a full run: count only this album's items.
    const ours = new Set(fx.summary.items.filter((i) => i.contentId).map((i) => i.contentId!.toLowerCase()));
    return logs
      .filter((l) => ours.has(l.args.contentId!.toLowerCase()))
      .map((l) => ({ contentId: l.args.contentId!, manifestCid: l.args.manifestCid! }));
  }

  it("uploads every track of a folder with one command, reports the corrupt file, exit code 1", async () => {
    const { firstRun, summary } = fx;
    expect(firstRun.code, firstRun.stderr).to.equal(1);
    expect(summary.total).to.equal(4);
    expect(summary.succeeded).to.equal(3);
    expect(summary.failed).to.equal(1);
    const broken = summary.items.find((i) => i.file.endsWith("04-broken.wav"))!;
    expect(broken.ok).to.equal(false);
    expect(broken.error).to.match(/Cannot ingest .*04-broken\.wav.*What to do/);
    expect(summary.totalBytes).to.be.greaterThan(0);
    const written = JSON.parse(readFileSync(path.join(fx.home, "uploads", "summary.json"), "utf8"));
    expect(written.succeeded).to.equal(3);
    // No content key ever reaches the output.
    expect(firstRun.stdout + firstRun.stderr).not.to.match(/"key"\s*:/);
  });

  it("registers each item once on ContentAccess with the manifest CID bytes, tier and price", async () => {
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const events = await registeredEvents();
    expect(events).to.have.length(3);
    for (const item of fx.summary.items.filter((i) => i.ok)) {
      const [creator, tier, manifest, rules] = await fx.chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [item.contentId!] });
      expect(creator).to.equal(CREATOR.address);
      expect(tier).to.equal(1);
      expect(manifest).to.equal(bytesToHex(CID.parse(item.manifestCid!).bytes));
      expect(rules.price).to.equal(10n ** 16n);
    }
  });

  it("--price-per-minute sets each item's stream price on PaymentChannels (native, 0.0001 per minute)", async () => {
    const pc = contractOf(fx.chain.deployment, "PaymentChannels");
    for (const item of fx.summary.items.filter((i) => i.ok)) {
      const [token, rate] = await fx.chain.publicClient.readContract({ address: pc.address, abi: pc.abi, functionName: "streamPrice", args: [item.contentId!] });
      expect(token).to.equal("0x0000000000000000000000000000000000000000");
      expect(rate).to.equal(10n ** 14n);
    }
  });

  it("stream-price changes or withdraws an uploaded item's price; only its creator may, and a repeat sends nothing", async () => {
    const pc = contractOf(fx.chain.deployment, "PaymentChannels");
    const id = fx.summary.items.find((i) => i.ok)!.contentId!;
    const price = () => fx.chain.publicClient.readContract({ address: pc.address, abi: pc.abi, functionName: "streamPrice", args: [id] });
    const set = await runCli(["stream-price", id, "0.0003", "--json"], fx.env);
    expect(set.code, set.stderr).to.equal(0);
    expect(JSON.parse(set.stdout)).to.include({ ratePerMinute: (3n * 10n ** 14n).toString(), offered: true, changed: true });
    expect((await price())[1]).to.equal(3n * 10n ** 14n);
    const again = await runCli(["stream-price", id, "0.0003", "--json"], fx.env);
    expect(JSON.parse(again.stdout)).to.include({ changed: false });
    const off = await runCli(["stream-price", id, "0"], fx.env);
    expect(off.code, off.stderr).to.equal(0);
    expect(off.stdout).to.match(/no longer offered per minute/);
    expect((await price())[1]).to.equal(0n);
    const stranger = await runCli(["stream-price", id, "0.0001"], { ...fx.env, CREATOR_PRIVATE_KEY: DEV_PRIVATE_KEYS[5] });
    expect(stranger.code).to.equal(2);
    expect(stranger.stderr).to.match(/belongs to 0x[0-9a-fA-F]{40}: set CREATOR_PRIVATE_KEY/);
    expect((await runCli(["stream-price", "0x1234", "1"], fx.env)).code).to.equal(2);
    // Back to the upload's price for the tests below.
    expect((await runCli(["stream-price", id, "0.0001"], fx.env)).code).to.equal(0);
  });

  it("is playable by key: a stored high-quality segment decrypts with the key from the key store", async () => {
    const store = new LocalStore({ dir: path.join(fx.home, "pieces") });
    const keys = await openKeyStore({ dataDir: path.join(fx.home, "keys"), masterKey: MASTER_KEY });
    try {
      for (const item of fx.summary.items.filter((i) => i.ok)) {
        const manifest = parseManifest(await store.get(item.manifestCid!));
        expect(manifest.contentId).to.equal(item.contentId);
        // --artwork-dir: only 02-song has a cover (02-song.png), as resized JPEG pieces.
        expect(manifest.artwork.length > 0, item.file).to.equal(item.file.endsWith("02-song.wav"));
        for (const a of manifest.artwork) expect(await store.has(a.pieceCid)).to.equal(true);
        const high = manifest.variants.find((v) => v.name === "high")!;
        expect(high.encrypted).to.equal(true);
        const key = await keys.getKey(item.contentId!);
        expect(key, "content key in the key store").to.not.equal(undefined);
        const seg = high.segments[0]!;
        expect(high.keyScheme).to.equal("minute-hkdf");
        const plain = decryptManifestSegment(key!, manifest.contentId, high, seg, await store.get(seg.pieceCid));
        expect(plain[0]).to.equal(0x47); // MPEG-TS sync byte
      }
    } finally {
      await keys.close();
    }
  });

  it("premium sells the full track: every full-length variant is stored encrypted (only the preview is clear) and no pass unlocks by default", async () => {
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const store = new LocalStore({ dir: path.join(fx.home, "pieces") });
    for (const item of fx.summary.items.filter((i) => i.ok)) {
      const manifest = parseManifest(await store.get(item.manifestCid!));
      expect(manifest.variants.map((v) => [v.name, v.encrypted]), item.file).to.deep.equal([["high", true], ["standard", true], ["preview", false]]);
      const [, , , rules] = await fx.chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "contentInfo", args: [item.contentId!] });
      expect(rules.minPasses, "passes that unlock (CLI default)").to.equal(0n);
    }
  });

  it("--free-standard gives the standard variant away in the clear (high stays encrypted); refused on a free item", async () => {
    const home = path.join(fx.dir, "home-free-standard");
    const env = cliEnv(fx.chain, home);
    const file = path.join(fx.dir, "free-standard", "giveaway.wav");
    await makeTone(file, 4, 660);
    const refused = await runCli(["upload", file, "--tier", "free", "--free-standard"], env);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(/--free-standard is for premium or exclusive items/);
    const run = await runCli(["upload", file, "--tier", "premium", "--price", "0.01", "--free-standard", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    const item = (JSON.parse(run.stdout) as { items: { manifestCid: string }[] }).items[0]!;
    const manifest = parseManifest(await new LocalStore({ dir: path.join(home, "pieces") }).get(item.manifestCid));
    expect(manifest.tier).to.equal("premium");
    expect(manifest.variants.map((v) => [v.name, v.encrypted])).to.deep.equal([["high", true], ["standard", false], ["preview", false]]);
  });

  it("re-running the same command uploads nothing and registers nothing again", async () => {
    const before = (await registeredEvents()).length;
    const run = await runCli(["upload", fx.album, "--json"], fx.env);
    expect(run.code).to.equal(1); // the corrupt file still fails
    const summary = JSON.parse(run.stdout);
    expect(summary.succeeded).to.equal(3);
    expect(summary.alreadyDone).to.equal(3);
    expect(summary.piecesUploaded).to.equal(0);
    expect((await registeredEvents()).length).to.equal(before);
  });

  it("status and get: reads the chain, fetches, verifies and decrypts the item", async () => {
    const id = fx.contentIds[1]!;
    const status = await runCli(["status", id, "--json"], fx.env);
    expect(status.code, status.stderr).to.equal(0);
    const s = JSON.parse(status.stdout);
    expect(s).to.include({ registered: true, tier: "premium", manifestStored: true, keyStored: true, walletHasAccess: true });
    const out = path.join(fx.dir, "song.ts");
    const get = await runCli(["get", id, "--out", out, "--variant", "high", "--json"], fx.env);
    expect(get.code, get.stderr).to.equal(0);
    expect(JSON.parse(get.stdout)).to.include({ variant: "high", encrypted: true });
    const probe = await runTool("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", out]);
    expect(Number(probe.stdout.toString().trim())).to.be.closeTo(8, 1);
  });

  it("get refuses an encrypted variant to a wallet without access (exit 4) but serves the clear preview", async () => {
    const id = fx.contentIds[0]!;
    const fan = { ...fx.env, CREATOR_PRIVATE_KEY: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a" };
    const denied = await runCli(["get", id, "--out", path.join(fx.dir, "x.ts"), "--variant", "high"], fan);
    expect(denied.code).to.equal(4);
    expect(denied.stderr).to.match(/has no access/);
    expect(denied.stderr + denied.stdout).not.to.contain("5de4111afa1a4b94908f");
    const preview = await runCli(["get", id, "--out", path.join(fx.dir, "p.ts"), "--variant", "preview"], fan);
    expect(preview.code, preview.stderr).to.equal(0);
    expect(existsSync(path.join(fx.dir, "p.ts"))).to.equal(true);
  });

  it("cost and list print per-item figures", async () => {
    const cost = await runCli(["cost", "--plays", "500", "--json"], fx.env);
    expect(cost.code, cost.stderr).to.equal(0);
    const c = JSON.parse(cost.stdout);
    expect(c.items).to.have.length(3);
    expect(c.total).to.be.greaterThan(0);
    expect(c.items[0].placement.cdn).to.equal(true); // 500 plays/month is hot
    const table = await runCli(["cost"], fx.env);
    expect(table.stdout).to.match(/Creator total per month/);
    const list = await runCli(["list", "--json"], fx.env);
    expect(JSON.parse(list.stdout).filter((i: { state: string }) => i.state === "registered")).to.have.length(3);
  });

  describe("exit codes and help", () => {
    const commands = ["upload", "status", "get", "list", "cost", "backup", "restore", "export", "watch", "live", "live-status", "pass-metadata"];

    it("--help works on every command (exit 0)", async () => {
      const env = cliEnv(undefined, path.join(fx.dir, "nohome"));
      const top = await runCli(["--help"], env);
      expect(top.code).to.equal(0);
      expect(top.stdout).to.contain("Exit codes:");
      for (const c of commands) {
        const r = await runCli([c, "--help"], env);
        expect(r.code, c).to.equal(0);
        expect(r.stdout, c).to.contain(`Usage: streamvault ${c}`);
      }
    });

    it("usage errors exit 2 with a hint", async () => {
      const env = cliEnv(fx.chain, fx.home);
      const unknown = await runCli(["frobnicate"], env);
      expect(unknown.code).to.equal(2);
      const badId = await runCli(["status", "0x1234"], env);
      expect(badId.code).to.equal(2);
      expect(badId.stderr).to.match(/64 hex characters/);
      const missing = await runCli(["upload", path.join(fx.dir, "does-not-exist")], env);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.match(/does not exist/);
      const badTier = await runCli(["upload", fx.album, "--tier", "gold"], env);
      expect(badTier.code).to.equal(2);
      const meta = path.join(fx.dir, "bad-meta.json");
      writeFileSync(meta, JSON.stringify({ items: { "01-intro.wav": { tier: "premium", collaborators: [{ account: "nobody", shareBps: 100 }] } } }));
      const badMeta = await runCli(["upload", fx.album, "--metadata", meta], env);
      expect(badMeta.code).to.equal(2);
      expect(badMeta.stderr).to.match(/collaborators\[0\]\.account is not an address/);
    });

    it("an unreachable chain exits 3, unknown content exits 4", async () => {
      const down = await runCli(["status", fx.contentIds[0]!], cliEnv(undefined, path.join(fx.dir, "nohome")));
      expect(down.code).to.equal(3);
      expect(down.stderr).to.match(/Cannot reach the chain/);
      const unknown = await runCli(["status", "0x" + "ab".repeat(32)], fx.env);
      expect(unknown.code).to.equal(4);
    });
  });
});

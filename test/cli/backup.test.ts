import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { CID } from "multiformats/cid";
import { bytesToHex, zeroAddress } from "viem";
import type { Hex } from "viem";
import { checkMilestones, DEFAULT_MILESTONES } from "@streamvault/lib/catalog/milestones/milestones.ts";
import { contractOf } from "@streamvault/lib/deployments";
import { computePieceCid, LocalStore, startGateway } from "@streamvault/lib/storage";
import { openKeyStore } from "@streamvault/lib/keys";
import { countSegmentPlays, ManifestSegmentResolver } from "@streamvault/lib/keyrelease/plays.ts";
import { startKeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { generateEphemeralKeyPair } from "@streamvault/lib/keyrelease/wrap.ts";
import { parseManifest } from "@streamvault/lib/manifest";
import { PLAYS_SOURCE_FILE } from "@streamvault/lib/catalog/milestones/plays.ts";
import { signIn } from "../keyrelease/fixture.ts";
import { CREATOR, MASTER_KEY, cliEnv, runCli } from "./helpers.ts";
import { getFixture } from "./fixture.ts";
import type { Fixture } from "./fixture.ts";

describe("cli: backup, restore, export, milestones, pass metadata", function () {
  this.timeout(240_000);
  let fx: Fixture;
  let store: LocalStore;
  let backup: { index: number; pieceCid: string; sha256: Hex; size: number; items: number };

  before(async () => {
    fx = await getFixture();
    store = new LocalStore({ dir: path.join(fx.home, "pieces") });
  });

  const registry = () => contractOf(fx.chain.deployment, "BackupRegistry");

  it("backup stores a catalogue snapshot and anchors its SHA-256 and PieceCID on BackupRegistry", async () => {
    const run = await runCli(["backup", "--json"], fx.env);
    expect(run.code, run.stderr).to.equal(0);
    backup = JSON.parse(run.stdout);
    expect(backup.items).to.equal(3);
    const { address, abi } = registry();
    const snap = await fx.chain.publicClient.readContract({ address, abi, functionName: "backupAt", args: [CREATOR.address, BigInt(backup.index)] });
    const bytes = await store.get(backup.pieceCid);
    expect(snap.sha256Digest).to.equal(`0x${createHash("sha256").update(bytes).digest("hex")}`);
    expect(Number(snap.size)).to.equal(bytes.length);
    expect(snap.trigger).to.equal(0);
    const events = await fx.chain.publicClient.getContractEvents({ address, abi, eventName: "BackupAnchored", fromBlock: 0n });
    expect(events.at(-1)!.args.pieceCid).to.equal(bytesToHex(CID.parse(backup.pieceCid).bytes));
    const snapshot = JSON.parse(new TextDecoder().decode(bytes));
    expect(snapshot.items.map((i: { contentId: string }) => i.contentId).sort()).to.deep.equal([...fx.contentIds].sort());
    expect(snapshot.items[0].manifest.version).to.equal(2);
    expect(snapshot.items[0].rules.price).to.equal("10000000000000000");
  });

  it("restore into an empty home verifies the hash against the chain and rebuilds journal, catalogue and manifests", async () => {
    const home2 = path.join(fx.dir, "restored-home");
    const pieces2 = new LocalStore({ dir: path.join(home2, "pieces") });
    await pieces2.put(await store.get(backup.pieceCid)); // only the snapshot survives
    const env2 = cliEnv(fx.chain, home2);
    const run = await runCli(["restore", "--json"], env2);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout);
    expect(result.items).to.equal(3);
    expect(result.manifestsRestored).to.equal(3);
    const journal = JSON.parse(readFileSync(path.join(home2, "uploads", "journal.json"), "utf8"));
    const items = Object.values(journal.items) as { contentId: string; state: string; manifestCid: string }[];
    expect(items.map((i) => i.contentId).sort()).to.deep.equal([...fx.contentIds].sort());
    expect(items.every((i) => i.state === "registered")).to.equal(true);
    for (const i of items) expect(await pieces2.has(i.manifestCid)).to.equal(true);
    expect(existsSync(path.join(home2, "catalog.json"))).to.equal(true);
    // A restored catalogue counts as done: an upload of the same album registers nothing.
    const list = await runCli(["list", "--json"], env2);
    expect(JSON.parse(list.stdout)).to.have.length(3);
  });

  it("restore rejects a tampered snapshot (SHA-256 differs from the chain, exit 5) and still restores a named good one", async () => {
    const original = await store.get(backup.pieceCid);
    const tampered = JSON.parse(new TextDecoder().decode(original));
    tampered.items[0].rules.price = "1";
    const tamperedBytes = new TextEncoder().encode(JSON.stringify(tampered, null, 1) + "\n");
    const put = await store.put(tamperedBytes);
    const { address, abi } = registry();
    const wallet = fx.chain.wallet(1);
    const hash = await wallet.writeContract({ address, abi, functionName: "anchorBackup", args: [CREATOR.address, bytesToHex(CID.parse(put.pieceCid).bytes), backup.sha256, BigInt(original.length), 0, 0n] });
    await fx.chain.publicClient.waitForTransactionReceipt({ hash });
    const home3 = path.join(fx.dir, "tamper-home");
    const env3 = { ...cliEnv(fx.chain, home3), STORAGE_DATA_DIR: path.join(fx.home, "pieces") };
    const bad = await runCli(["restore"], env3);
    expect(bad.code).to.equal(5);
    expect(bad.stderr).to.match(/tampered/);
    expect(existsSync(path.join(home3, "uploads", "journal.json"))).to.equal(false);
    const good = await runCli(["restore", "--piece-cid", backup.pieceCid, "--json"], env3);
    expect(good.code, good.stderr).to.equal(0);
    expect(JSON.parse(good.stdout).anchor.pieceCid).to.equal(backup.pieceCid);
    const notAnchored = await runCli(["restore", "--piece-cid", fx.summary.items[0]!.manifestCid!], env3);
    expect(notAnchored.code).to.equal(4);
  });

  it("export writes manifests, download URLs and tags", async () => {
    const out = path.join(fx.dir, "export");
    const run = await runCli(["export", "--out", out, "--gateway-url", "http://127.0.0.1:8787/"], fx.env);
    expect(run.code, run.stderr).to.equal(0);
    const catalog = JSON.parse(readFileSync(path.join(out, "catalog.json"), "utf8"));
    expect(catalog.items).to.have.length(3);
    for (const item of catalog.items) {
      expect(item.manifestUrl).to.equal(`http://127.0.0.1:8787/piece/${item.manifestCid}`);
      for (const v of item.variants) for (const s of v.segments) expect(s.url).to.equal(`http://127.0.0.1:8787/piece/${s.pieceCid}`);
      const manifestBytes = readFileSync(path.join(out, "manifests", `${item.contentId}.json`));
      expect(computePieceCid(new Uint8Array(manifestBytes))).to.equal(item.manifestCid);
    }
    expect(readdirSync(path.join(out, "manifests"))).to.have.length(3);
    const tags = JSON.parse(readFileSync(path.join(out, "tags.json"), "utf8"));
    expect(Object.values(tags).map((t) => (t as { title: string }).title).sort()).to.deep.equal(["Tone 330", "Tone 440", "Tone 550"]);
  });

  it("checkMilestones: highest new threshold per metric, once; quarterly when nothing was anchored this quarter", () => {
    const now = Date.UTC(2026, 10, 21) / 1000;
    const cfg = { ...DEFAULT_MILESTONES, revenue: ["1000"], quarterly: true };
    const metrics = { plays: 1500n, revenue: 999n, coinHolders: 0n, passHolders: 12n };
    const hits = checkMilestones(metrics, cfg, { crossed: {} }, now, Date.UTC(2026, 8, 30) / 1000);
    expect(hits.map((h) => [h.metric, h.trigger, h.value])).to.deep.equal([
      ["plays", "play", 1000n],
      ["passHolders", "follower", 10n],
      ["quarterly", "quarterly", BigInt(Date.UTC(2026, 9, 1) / 1000)],
    ]);
    const again = checkMilestones(metrics, cfg, { crossed: { plays: "1000", passHolders: "10" } }, now, Date.UTC(2026, 9, 2) / 1000);
    expect(again).to.deep.equal([]);
    expect(checkMilestones({ ...metrics, revenue: 1000n }, cfg, { crossed: { plays: "1000", passHolders: "10" } }, now, now)[0]).to.deep.include({ metric: "revenue", trigger: "revenue", value: 1000n });
  });

  it("watch --once anchors when a play milestone is crossed, and not again", async () => {
    writeFileSync(path.join(fx.home, "milestones.json"), JSON.stringify({ plays: [5, 1000], coinHolders: [], passHolders: [], quarterly: false }));
    writeFileSync(path.join(fx.home, "plays.json"), JSON.stringify({ [fx.contentIds[0]!]: 4, [fx.contentIds[1]!]: 3 }));
    const first = await runCli(["watch", "--once", "--json"], fx.env);
    expect(first.code, first.stderr).to.equal(0);
    const r = JSON.parse(first.stdout);
    expect(r.anchored).to.have.length(1);
    expect(r.anchored[0]).to.include({ trigger: "play", milestoneValue: "5" });
    const { address, abi } = registry();
    const snap = await fx.chain.publicClient.readContract({ address, abi, functionName: "backupAt", args: [CREATOR.address, BigInt(r.anchored[0].index)] });
    expect(snap.trigger).to.equal(2);
    expect(snap.milestoneValue).to.equal(5n);
    const second = await runCli(["watch", "--once", "--json"], fx.env);
    expect(JSON.parse(second.stdout).anchored).to.have.length(0);
  });

  it("watch fires a plays milestone from plays the key-release server counted (key releases and segment requests), falling back to plays.json", async () => {
    // The key-release server on this chain and this home's key store, and a gateway over this home's
    // pieces that counts segment requests: real PGlite, real HTTP on 127.0.0.1.
    const keyStore = await openKeyStore({ dataDir: path.join(fx.home, "keys"), masterKey: MASTER_KEY, env: {} });
    const siwe = { domain: "cli.streamvault.test", uri: "https://cli.streamvault.test" };
    const srv = await startKeyReleaseServer({
      port: 0, publicClient: fx.chain.publicClient, deployment: fx.chain.deployment, keyStore, siwe, pgliteWorker: false,
      segmentResolver: new ManifestSegmentResolver({ publicClient: fx.chain.publicClient, deployment: fx.chain.deployment, store }),
      logger: { info() {}, warn() {}, error() {} },
    });
    const gateway = await startGateway({ store, onPieceServed: countSegmentPlays(srv.service) });
    try {
      const total = async () => ((await (await fetch(`${srv.url}/api/plays?ids=${fx.contentIds.join(",")}`)).json()) as { total: { plays: number; keyReleases: number; segmentPlays: number } }).total;
      expect(await total()).to.deep.include({ plays: 0, keyReleases: 0 });
      // The creator plays each item once (key releases) ...
      const cookie = await signIn(srv.url, CREATOR);
      for (const contentId of fx.contentIds) {
        const { publicKey } = await generateEphemeralKeyPair();
        const res = await fetch(`${srv.url}/api/keys/${contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: publicKey }) });
        expect(res.status, await res.clone().text()).to.equal(200);
      }
      expect(await total()).to.deep.include({ plays: 3, keyReleases: 3, segmentPlays: 0 });
      // ... and an anonymous listener fetches the full-quality segments of each (twice: one play each).
      for (const item of fx.summary.items.filter((i) => i.ok)) {
        const manifest = parseManifest(await store.get(item.manifestCid!));
        const full = manifest.variants.find((v) => v.role !== "preview" && v.kind === "hls")!;
        for (const seg of [...full.segments, ...full.segments]) {
          const res = await fetch(`${gateway.url}/piece/${seg.pieceCid}?c=${item.contentId}`, { headers: { "user-agent": "cli-test-listener" } });
          expect(res.status).to.equal(200);
          await res.arrayBuffer();
        }
      }
      expect(await total()).to.deep.include({ plays: 6, keyReleases: 3, segmentPlays: 3 });

      // 5 was anchored from plays.json above; 6 now comes from the server.
      writeFileSync(path.join(fx.home, "milestones.json"), JSON.stringify({ plays: [6, 1000], coinHolders: [], passHolders: [], quarterly: false }));
      const run = await runCli(["watch", "--once", "--json", "--plays-url", srv.url], fx.env);
      expect(run.code, run.stderr).to.equal(0);
      const r = JSON.parse(run.stdout);
      expect(r.playsSource).to.equal(`server ${srv.url}`);
      expect(r.metrics.plays).to.equal("6");
      expect(r.anchored).to.have.length(1);
      expect(r.anchored[0]).to.include({ trigger: "play", milestoneValue: "6" });
      const { address, abi } = registry();
      const snap = await fx.chain.publicClient.readContract({ address, abi, functionName: "backupAt", args: [CREATOR.address, BigInt(r.anchored[0].index)] });
      expect(snap.trigger).to.equal(2);
      expect(snap.milestoneValue).to.equal(6n);

      // `npm run dev` writes <home>/plays-source.json: the watcher finds the server without a flag.
      writeFileSync(path.join(fx.home, PLAYS_SOURCE_FILE), JSON.stringify({ url: srv.url }));
      const viaFile = await runCli(["watch", "--once", "--json"], fx.env);
      expect(viaFile.code, viaFile.stderr).to.equal(0);
      expect(JSON.parse(viaFile.stdout)).to.deep.include({ playsSource: `server ${srv.url}`, anchored: [] });
    } finally {
      await gateway.close();
      await srv.close();
      await keyStore.close();
    }
    // The server is gone: the watcher says so and falls back to plays.json (7 plays, nothing new to anchor).
    const down = await runCli(["watch", "--once", "--json"], fx.env);
    expect(down.code, down.stderr).to.equal(0);
    expect(down.stderr).to.match(/plays server http:\/\/127\.0\.0\.1:\d+ did not answer .*plays\.json/);
    const d = JSON.parse(down.stdout);
    expect(d.playsSource).to.equal(path.join(fx.home, "plays.json"));
    expect(d.metrics.plays).to.equal("7");
    expect(d.anchored).to.have.length(0);
    rmSync(path.join(fx.home, PLAYS_SOURCE_FILE));
  });

  it("pass-metadata stores image + ERC-721 JSON, served by the gateway, and sets the pass's metadata URI", async () => {
    const image = path.join(fx.dir, "pass.png");
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 20, b: 90 } } }).png().toFile(image);
    const gateway = await startGateway({ store });
    try {
      const notLaunched = await runCli(["pass-metadata", "--image", image, "--name", "VIP", "--gateway-url", gateway.url], fx.env);
      expect(notLaunched.code).to.equal(4);
      const reg = contractOf(fx.chain.deployment, "CreatorRegistry");
      const creator = fx.chain.wallet(1);
      const launch = await creator.writeContract({
        address: reg.address,
        abi: reg.abi,
        functionName: "launchCreator",
        args: [{ name: "Tone Coin", symbol: "TONE", supply: 10n ** 24n, creatorAllocation: 10n ** 23n }, { name: "Tone Pass", symbol: "TP", maxSupply: 100n, mintPrice: 0n, mintEnabled: true, royaltyBps: 500 }, ""],
      });
      await fx.chain.publicClient.waitForTransactionReceipt({ hash: launch });
      // A file of another type is a usage error (exit 2, from its bad_input code), not a failure (1).
      const notes = path.join(fx.dir, "pass.txt");
      writeFileSync(notes, "not an image");
      const badType = await runCli(["pass-metadata", "--image", notes, "--name", "VIP", "--gateway-url", gateway.url], fx.env);
      expect(badType.code, badType.stderr).to.equal(2);
      expect(badType.stderr).to.match(/--image must be one of \.png/);
      const run = await runCli(["pass-metadata", "--image", image, "--name", "Tone VIP", "--description", "Backstage forever", "--gateway-url", gateway.url, "--json"], fx.env);
      expect(run.code, run.stderr).to.equal(0);
      const result = JSON.parse(run.stdout);
      const pass = await fx.chain.publicClient.readContract({ address: reg.address, abi: reg.abi, functionName: "passOf", args: [CREATOR.address] });
      expect(pass).to.not.equal(zeroAddress);
      const passAbi = contractOf(fx.chain.deployment, "CreatorPass").abi;
      const fan = fx.chain.wallet(3);
      const mint = await fan.writeContract({ address: pass, abi: passAbi, functionName: "mint", args: [1n] });
      const receipt = await fx.chain.publicClient.waitForTransactionReceipt({ hash: mint });
      const transfers = await fx.chain.publicClient.getContractEvents({ address: pass, abi: passAbi, eventName: "Transfer", blockHash: receipt.blockHash });
      const uri = await fx.chain.publicClient.readContract({ address: pass, abi: passAbi, functionName: "tokenURI", args: [transfers[0]!.args.tokenId!] });
      expect(uri).to.equal(result.metadataUri);
      expect(uri.startsWith(`${gateway.url}/piece/`)).to.equal(true);
      const metadata = (await (await fetch(uri)).json()) as { name: string; description: string; image: string };
      expect(metadata).to.include({ name: "Tone VIP", description: "Backstage forever" });
      const served = new Uint8Array(await (await fetch(metadata.image)).arrayBuffer());
      expect(Buffer.from(served).equals(readFileSync(image))).to.equal(true);
    } finally {
      await gateway.close();
    }
  });
});

import { expect } from "chai";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { zeroAddress, type Address, type Hex } from "viem";
import { contractOf } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { decryptManifestSegment } from "@streamvault/lib/crypto";
import { KeyUnsealError, openKeyStore } from "@streamvault/lib/keys";
import { startKeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { parseManifest } from "@streamvault/lib/manifest";
import { LocalStore } from "@streamvault/lib/storage";
import { privateKeyToAccount } from "viem/accounts";
import { signIn } from "../keyrelease/fixture.ts";
import { CREATOR, MASTER_KEY, cliEnv, runCli } from "./helpers.ts";
import { getFixture } from "./fixture.ts";
import type { Fixture } from "./fixture.ts";

const FAN = privateKeyToAccount(DEV_PRIVATE_KEYS[4]);
const OTHER_CREATOR_KEY = DEV_PRIVATE_KEYS[2];

describe("cli: key escrow, key-store restore from a snapshot, master-key rotation", function () {
  this.timeout(240_000);
  let fx: Fixture;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let store: LocalStore;
  const keysBefore = new Map<string, Buffer>();

  before(async () => {
    fx = await getFixture();
    // A copy of the uploaded catalogue: wiping and rotating keys here leaves the shared fixture alone.
    home = path.join(fx.dir, "escrow-home");
    cpSync(fx.home, home, { recursive: true });
    env = cliEnv(fx.chain, home);
    store = new LocalStore({ dir: path.join(home, "pieces") });
    const keys = await openKeyStore({ dataDir: path.join(home, "keys"), masterKey: MASTER_KEY, env: {} });
    try {
      for (const id of fx.contentIds) keysBefore.set(id, Buffer.from((await keys.getKey(id))!));
    } finally {
      await keys.close();
    }
  });

  it("keys escrow seals every stored key to the wallet's escrow key; backup carries them, useless without the wallet", async () => {
    const before = await runCli(["keys", "status", "--json"], env);
    expect(before.code, before.stderr).to.equal(0);
    expect(JSON.parse(before.stdout)).to.include({ escrow: false, escrowed: 0, storedKeys: 3 });
    const noEscrow = await runCli(["backup", "--json"], env);
    expect(noEscrow.code, noEscrow.stderr).to.equal(0);
    expect(noEscrow.stderr).to.match(/no key escrow set up/);
    expect(JSON.parse(noEscrow.stdout).escrowedKeys).to.equal(0);

    const setup = await runCli(["keys", "escrow", "--json"], env);
    expect(setup.code, setup.stderr).to.equal(0);
    expect(JSON.parse(setup.stdout)).to.include({ escrow: true, escrowed: 3, storedKeys: 3, registeredItems: 3 });

    const run = await runCli(["backup", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    const backup = JSON.parse(run.stdout);
    expect(backup.escrowedKeys).to.equal(3);
    const snapshot = JSON.parse(new TextDecoder().decode(await store.get(backup.pieceCid)));
    expect(snapshot.escrow).to.include({ alg: "SV-ESC1", chainId: 31337, verifyingContract: contractOf(fx.chain.deployment, "BackupRegistry").address });
    expect(snapshot.escrow.keys.map((k: { contentId: string }) => k.contentId).sort()).to.deep.equal([...fx.contentIds].sort());
    const text = JSON.stringify(snapshot);
    for (const key of keysBefore.values()) expect(text).to.not.include(key.toString("hex"));
  });

  it("after the key store is wiped, restore with another wallet is refused and restore with the creator's wallet brings every key back; a fan plays the full track; export has its sale and play", async () => {
    rmSync(path.join(home, "keys"), { recursive: true, force: true });
    const wrong = await runCli(["restore", "--creator", CREATOR.address, "--json"], { ...env, CREATOR_PRIVATE_KEY: OTHER_CREATOR_KEY });
    expect(wrong.code).to.equal(4);
    expect(wrong.stderr).to.include(`this snapshot's escrow belongs to ${CREATOR.address}; sign with that wallet`);
    expect(existsSync(path.join(home, "keys"))).to.equal(false); // refused before the key store was touched

    const run = await runCli(["restore", "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout).keys).to.deep.equal({ restored: 3, verified: 3, unverified: [] });
    const status = await runCli(["keys", "status", "--json"], env);
    expect(JSON.parse(status.stdout)).to.include({ escrow: true, escrowed: 3, storedKeys: 3 });

    // A fan who bought the track gets its key released by the server over the rebuilt key store
    // and decrypts every full-quality segment of it.
    const contentId = fx.contentIds[0]! as Hex;
    const ca = contractOf(fx.chain.deployment, "ContentAccess");
    const [, price, , version] = (await fx.chain.publicClient.readContract({ address: ca.address, abi: ca.abi, functionName: "purchaseTerms", args: [contentId] })) as readonly [Address, bigint, bigint, number];
    const hash = await fx.chain.wallet(4).writeContract({ address: ca.address, abi: ca.abi, functionName: "purchaseAccess", args: [contentId, version], value: price });
    expect((await fx.chain.publicClient.waitForTransactionReceipt({ hash })).status).to.equal("success");
    const keyStore = await openKeyStore({ dataDir: path.join(home, "keys"), masterKey: MASTER_KEY, env: {} });
    const srv = await startKeyReleaseServer({
      port: 0, publicClient: fx.chain.publicClient, deployment: fx.chain.deployment, keyStore, pgliteWorker: false,
      siwe: { domain: "cli.streamvault.test", uri: "https://cli.streamvault.test" }, logger: { info() {}, warn() {}, error() {} },
    });
    try {
      const cookie = await signIn(srv.url, FAN);
      const { privateKey, publicKey } = await generateEphemeralKeyPair();
      const res = await fetch(`${srv.url}/api/keys/${contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: publicKey }) });
      expect(res.status, await res.clone().text()).to.equal(200);
      const { wrapped } = (await res.json()) as { wrapped: WrappedKey };
      const key = await unwrapContentKey({ privateKey, wrapped, contentId, wallet: FAN.address.toLowerCase() });
      expect(Buffer.from(key).equals(keysBefore.get(contentId)!)).to.equal(true);
      const item = fx.summary.items.find((i) => i.contentId === contentId)!;
      const manifest = parseManifest(await store.get(item.manifestCid!));
      const full = manifest.variants.find((v) => v.encrypted && v.role !== "preview")!;
      let plainBytes = 0;
      for (const segment of full.segments) plainBytes += decryptManifestSegment(key, contentId, full, segment, await store.get(segment.pieceCid)).length;
      expect(full.segments.length).to.be.greaterThan(0);
      expect(plainBytes).to.be.greaterThan(0);

      // The export: that purchase, the play the key release counted, the creator's credit and withdrawal, coin holders, addresses.
      const reg = contractOf(fx.chain.deployment, "CreatorRegistry");
      let [coin, pass] = await fx.chain.publicClient.readContract({ address: reg.address, abi: reg.abi, functionName: "creatorTokens", args: [CREATOR.address] });
      if (coin === zeroAddress) {
        const launch = await fx.chain.wallet(1).writeContract({ address: reg.address, abi: reg.abi, functionName: "launchCreator", args: [{ name: "Tone Coin", symbol: "TONE", supply: 10n ** 24n, creatorAllocation: 10n ** 23n }, { name: "Tone Pass", symbol: "TP", maxSupply: 100n, mintPrice: 0n, mintEnabled: true, royaltyBps: 500 }, ""] });
        await fx.chain.publicClient.waitForTransactionReceipt({ hash: launch });
        [coin, pass] = await fx.chain.publicClient.readContract({ address: reg.address, abi: reg.abi, functionName: "creatorTokens", args: [CREATOR.address] });
      }
      const withdraw = await fx.chain.wallet(1).writeContract({ address: ca.address, abi: ca.abi, functionName: "withdraw", args: [zeroAddress] });
      await fx.chain.publicClient.waitForTransactionReceipt({ hash: withdraw });
      const out = path.join(fx.dir, "escrow-export");
      const exported = await runCli(["export", "--out", out, "--plays-url", srv.url, "--json"], env);
      expect(exported.code, exported.stderr).to.equal(0);
      const result = JSON.parse(exported.stdout);
      const today = new Date().toISOString().slice(0, 10);
      const csv = (name: string) => readFileSync(path.join(out, name), "utf8").trim().split("\r\n").map((line) => line.split(","));
      const sales = csv("sales.csv");
      expect(sales[0]).to.deep.equal(["day", "tx", "content_id", "title", "buyer", "token", "amount", "expires_at"]);
      const sale = sales.find((r) => r[4] === FAN.address)!;
      expect(sale).to.not.equal(undefined);
      expect(sale.slice(0, 1).concat(sale.slice(2, 4), sale.slice(5, 7))).to.deep.equal([today, contentId, "Tone 330", zeroAddress, price.toString()]);
      const plays = csv("plays-per-day.csv");
      expect(plays[0]).to.deep.equal(["day", "content_id", "title", "plays"]);
      expect(plays.slice(1)).to.deep.include([today, contentId, "Tone 330", "1"]);
      const credits = csv("credits.csv");
      expect(credits[0]).to.deep.equal(["day", "tx", "ledger", "content_id", "title", "token", "role", "amount"]);
      expect(credits.some((r) => r[1] === hash && r[2] === "ContentAccess" && r[3] === contentId && r[6] === "creator" && BigInt(r[7]!) > 0n)).to.equal(true);
      const withdrawals = csv("withdrawals.csv");
      expect(withdrawals[0]).to.deep.equal(["day", "tx", "ledger", "token", "amount"]);
      expect(withdrawals.find((r) => r[1] === withdraw)?.slice(2, 4)).to.deep.equal(["ContentAccess", zeroAddress]);
      const holders = csv("holders.csv");
      expect(holders[0]).to.deep.equal(["kind", "token", "holder", "balance"]);
      expect(holders).to.deep.include(["coin", coin, CREATOR.address, (10n ** 23n).toString()]);
      const addresses = JSON.parse(readFileSync(path.join(out, "addresses.json"), "utf8"));
      expect(addresses).to.deep.include({ chainId: 31337, creator: CREATOR.address, coin, pass });
      expect(addresses.contracts).to.include({ ContentAccess: ca.address, CreatorRegistry: reg.address, BackupRegistry: contractOf(fx.chain.deployment, "BackupRegistry").address });
      expect(readFileSync(path.join(out, "MIGRATION.md"), "utf8")).to.include(coin).and.include("streamvault restore");
      // ... and the whole package is one piece in storage.
      const bundle = JSON.parse(new TextDecoder().decode(await store.get(result.pieceCid)));
      expect(bundle.format).to.equal("streamvault-export-bundle");
      expect(bundle.files["sales.csv"]).to.equal(readFileSync(path.join(out, "sales.csv"), "utf8"));
      expect(Object.keys(bundle.files)).to.include.members(["catalog.json", "plays-per-day.csv", "holders.csv", "MIGRATION.md", `manifests/${contentId}.json`]);
    } finally {
      await srv.close();
      await keyStore.close();
    }
  });

  it("keys rotate-master-key re-seals every key: the old master key no longer opens them, the new one does", async () => {
    const newKeyHex = "2f".repeat(32);
    const noKey = await runCli(["keys", "rotate-master-key"], env);
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.match(/--new-key-file <file> or STREAMVAULT_NEW_MASTER_KEY/);
    // The wrong current master key opens nothing, so nothing changes (exit 5).
    const wrongCurrent = await runCli(["keys", "rotate-master-key"], { ...env, STREAMVAULT_MASTER_KEY: "33".repeat(32), STREAMVAULT_NEW_MASTER_KEY: newKeyHex });
    expect(wrongCurrent.code).to.equal(5);
    expect(wrongCurrent.stderr).to.match(/nothing changed/);
    const keyFile = path.join(home, "new-master.key");
    writeFileSync(keyFile, newKeyHex + "\n", { mode: 0o600 });
    const run = await runCli(["keys", "rotate-master-key", "--new-key-file", keyFile, "--json"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ resealed: 3, masterKey: "env" });
    expect(run.stdout + run.stderr).to.not.include(newKeyHex);

    const oldStore = await openKeyStore({ dataDir: path.join(home, "keys"), masterKey: MASTER_KEY, env: {} });
    try {
      let error: unknown;
      await oldStore.getKey(fx.contentIds[0]!).catch((e) => (error = e));
      expect(error).to.be.instanceOf(KeyUnsealError);
    } finally {
      await oldStore.close();
    }
    const newStore = await openKeyStore({ dataDir: path.join(home, "keys"), masterKey: new Uint8Array(Buffer.from(newKeyHex, "hex")), env: {} });
    try {
      for (const [id, key] of keysBefore) expect(Buffer.from((await newStore.getKey(id))!).equals(key)).to.equal(true);
    } finally {
      await newStore.close();
    }
    // The CLI with the new key in STREAMVAULT_MASTER_KEY reads the store as before.
    const status = await runCli(["keys", "status", "--json"], { ...env, STREAMVAULT_MASTER_KEY: newKeyHex });
    expect(JSON.parse(status.stdout)).to.include({ escrowed: 3, storedKeys: 3 });
  });
});

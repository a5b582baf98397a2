import { expect } from "chai";
import pg from "pg";
import { mkdtemp, rm, stat, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { generateContentKey } from "@streamvault/lib/crypto";
import { deriveKek, kekCheckOf, KeyConflictError, KeyUnsealError, loadMasterKey, MasterKeyMismatchError, openKeyStore, sealKey, unsealKey } from "@streamvault/lib/keys";
import { deriveEscrowKeyPair, EscrowUnsealError, NonDeterministicSignerError, openEscrow } from "@streamvault/lib/keys";
import type { KeyStore } from "@streamvault/lib/keys";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { freshDatabase } from "../keyrelease/cluster.ts";

function keyStoreSuite(label: string, open: (masterKey: Uint8Array) => Promise<KeyStore>, uniq: string) {
  describe(`keys: KeyStore on ${label}`, () => {
    const masterKey = new Uint8Array(randomBytes(32));
    let store: KeyStore;
    before(async () => {
      store = await open(masterKey);
    });
    after(async () => {
      await store.close();
    });

    it("escrow: existing and new keys of the creator are sealed to their escrow key, open only with that wallet's pair, and replacing the key re-seals", async () => {
      const creator = privateKeyToAccount(generatePrivateKey());
      const other = privateKeyToAccount(generatePrivateKey());
      const params = (a: typeof creator) => ({ chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const, creator: a.address });
      const pair = await deriveEscrowKeyPair((td) => creator.signTypedData(td), params(creator));
      const wrongPair = await deriveEscrowKeyPair((td) => other.signTypedData(td), params(creator));
      const before = generateContentKey();
      const unrelated = generateContentKey();
      await store.putKey(`${uniq}-esc-1`, before, creator.address);
      await store.putKey(`${uniq}-esc-other`, unrelated);
      expect(await store.escrowOf(creator.address)).to.equal(undefined);
      expect(await store.setEscrowKey(creator.address, pair.publicKey, [`${uniq}-esc-1`, `${uniq}-esc-missing`])).to.deep.equal({ escrowed: 1 });
      const after = generateContentKey();
      await store.putKey(`${uniq}-esc-2`, after, creator.address); // an upload after setup
      const escrow = (await store.escrowOf(creator.address.toLowerCase()))!;
      expect(Buffer.from(escrow.publicKey).equals(Buffer.from(pair.publicKey))).to.equal(true);
      expect(escrow.keys.map((k) => k.contentId)).to.deep.equal([`${uniq}-esc-1`, `${uniq}-esc-2`]);
      expect(Buffer.from(await openEscrow(pair, `${uniq}-esc-1`, creator.address, escrow.keys[0]!.sealed)).equals(Buffer.from(before))).to.equal(true);
      expect(Buffer.from(await openEscrow(pair, `${uniq}-esc-2`, creator.address, escrow.keys[1]!.sealed)).equals(Buffer.from(after))).to.equal(true);
      let error: unknown;
      await openEscrow(wrongPair, `${uniq}-esc-1`, creator.address, escrow.keys[0]!.sealed).catch((e) => (error = e));
      expect(error).to.be.instanceOf(EscrowUnsealError);
      error = undefined;
      await openEscrow(pair, `${uniq}-esc-2`, creator.address, escrow.keys[0]!.sealed).catch((e) => (error = e)); // moved to another id
      expect(error).to.be.instanceOf(EscrowUnsealError);
      // A new escrow key: every entry is sealed to it again (the old pair no longer opens them).
      expect(await store.setEscrowKey(creator.address, wrongPair.publicKey, [`${uniq}-esc-1`, `${uniq}-esc-2`])).to.deep.equal({ escrowed: 2 });
      const replaced = (await store.escrowOf(creator.address))!;
      expect(Buffer.from(await openEscrow(wrongPair, `${uniq}-esc-1`, creator.address, replaced.keys[0]!.sealed)).equals(Buffer.from(before))).to.equal(true);
      error = undefined;
      await openEscrow(pair, `${uniq}-esc-1`, creator.address, replaced.keys[0]!.sealed).catch((e) => (error = e));
      expect(error).to.be.instanceOf(EscrowUnsealError);
    });

    it("round-trips a content key", async () => {
      const key = generateContentKey();
      const id = `${uniq}-a`;
      expect(await store.hasKey(id)).to.equal(false);
      expect(await store.getKey(id)).to.equal(undefined);
      await store.putKey(id, key);
      expect(await store.hasKey(id)).to.equal(true);
      expect(Buffer.from((await store.getKey(id))!).equals(Buffer.from(key))).to.equal(true);
      await store.putKey(id, key); // same key again: no-op
    });

    it("refuses to replace a key with a different one", async () => {
      const id = `${uniq}-b`;
      await store.putKey(id, generateContentKey());
      let error: unknown;
      try {
        await store.putKey(id, generateContentKey());
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(KeyConflictError);
    });
  });
}

describe("keys: sealing", () => {
  it("sealed bytes are not the key, and are bound to the content id", () => {
    const kek = deriveKek(new Uint8Array(randomBytes(32)));
    const key = generateContentKey();
    const sealed = sealKey(kek, "song-1", key);
    expect(sealed.length).to.equal(12 + 32 + 16);
    expect(Buffer.from(sealed).includes(Buffer.from(key))).to.equal(false);
    expect(Buffer.from(unsealKey(kek, "song-1", sealed)).equals(Buffer.from(key))).to.equal(true);
    expect(() => unsealKey(kek, "song-2", sealed)).to.throw(KeyUnsealError);
  });

  it("the dev master key is generated once into a 0600 file and reused; env wins", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "sv-keys-"));
    try {
      const a = await loadMasterKey(dir, {});
      const b = await loadMasterKey(dir, {});
      expect(Buffer.from(a).equals(Buffer.from(b))).to.equal(true);
      expect((await stat(path.join(dir, "master.key"))).mode & 0o777).to.equal(0o600);
      const envKey = randomBytes(32).toString("hex");
      expect(Buffer.from(await loadMasterKey(dir, { STREAMVAULT_MASTER_KEY: envKey })).toString("hex")).to.equal(envKey);
      let error: unknown;
      try {
        await loadMasterKey(dir, { STREAMVAULT_MASTER_KEY: "abcd" });
      } catch (err) {
        error = err;
      }
      expect((error as Error).message).to.match(/64 hex/).and.not.include("abcd");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("on-disk PGlite store holds only sealed keys and survives reopening", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "sv-keys-"));
    try {
      const key = generateContentKey();
      const first = await openKeyStore({ dataDir: dir, env: {} });
      await first.putKey("song-disk", key);
      await first.close();
      const second = await openKeyStore({ dataDir: dir, env: {} });
      expect(Buffer.from((await second.getKey("song-disk"))!).equals(Buffer.from(key))).to.equal(true);
      await second.close();
      // Same rows, another master key: unsealing fails loudly instead of returning garbage.
      const wrongMaster = await openKeyStore({ dataDir: dir, masterKey: new Uint8Array(randomBytes(32)), env: {} });
      let error: unknown;
      try {
        await wrongMaster.getKey("song-disk");
      } catch (err) {
        error = err;
      }
      await wrongMaster.close();
      expect(error).to.be.instanceOf(KeyUnsealError);
      // Look at the raw row: the stored bytes must not contain the plain key.
      const db = new PGlite(path.join(dir, "db"));
      const { rows } = await db.query<{ sealed_key: Uint8Array }>("SELECT sealed_key FROM content_keys WHERE content_id = 'song-disk'");
      await db.close();
      expect(rows).to.have.length(1);
      expect(Buffer.from(rows[0]!.sealed_key).includes(Buffer.from(key))).to.equal(false);
      const masterHex = (await readFile(path.join(dir, "master.key"), "utf8")).trim();
      expect(masterHex).to.match(/^[0-9a-f]{64}$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

keyStoreSuite("PGlite (in memory)", (masterKey) => openKeyStore({ inMemory: true, masterKey, env: {} }), "mem");

// Only registered when a Postgres server is configured.
if (process.env.TEST_DATABASE_URL) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  // A database of its own: the store records the master key it is sealed under, and each run's is random.
  describe("keys: on a Postgres database of their own", () => {
    let database: Awaited<ReturnType<typeof freshDatabase>> | undefined;
    before(async () => {
      database = await freshDatabase(serverUrl, "sv_keys");
    });
    after(async () => {
      await database?.drop();
    });
    keyStoreSuite("Postgres (TEST_DATABASE_URL)", (masterKey) => openKeyStore({ databaseUrl: database!.url, masterKey, env: {} }), `pg-${randomBytes(4).toString("hex")}`);
  });

  describe("keys: Postgres connection loss", () => it("a connection the server ends while idle (restart, failover, pg_terminate_backend) does not crash the process; the next read reconnects", async () => {
    const database = await freshDatabase(serverUrl, "sv_keys_loss");
    const store = await openKeyStore({ databaseUrl: database.url, masterKey: new Uint8Array(randomBytes(32)), env: {} });
    try {
      const key = randomBytes(32);
      await store.putKey(`0x${"cd".repeat(32)}`, key);
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      try {
        const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        expect(rowCount).to.be.greaterThan(0);
      } finally {
        await admin.end();
      }
      await new Promise((r) => setTimeout(r, 200)); // the pool sees the ended connection
      expect(Buffer.from((await store.getKey(`0x${"cd".repeat(32)}`))!)).to.deep.equal(key);
    } finally {
      await store.close();
      await database.drop();
    }
  }));

  describe("keys: Postgres schema creation", () => it("eight stores opened at once on a new database all create and share one schema (instances starting together)", async () => {
    const database = await freshDatabase(serverUrl, "sv_keys_race");
    const masterKey = new Uint8Array(randomBytes(32));
    try {
      const stores = await Promise.all(Array.from({ length: 8 }, () => openKeyStore({ databaseUrl: database.url, masterKey, env: {} })));
      try {
        const key = randomBytes(32);
        await stores[0]!.putKey(`0x${"ab".repeat(32)}`, key);
        for (const store of stores) expect(Buffer.from((await store.getKey(`0x${"ab".repeat(32)}`))!)).to.deep.equal(key);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await database.drop();
    }
  }));
}

describe("keys: master-key rotation and escrow signer checks", () => {
  it("rotateMasterKey re-seals every key under the new master key; the old one no longer opens them; a row the current key cannot open changes nothing", async () => {
    const oldKey = new Uint8Array(randomBytes(32));
    const newKey = new Uint8Array(randomBytes(32));
    const dir = await mkdtemp(path.join(tmpdir(), "sv-rotate-"));
    try {
      const store = await openKeyStore({ dataDir: dir, masterKey: oldKey, env: {} });
      const keys = [generateContentKey(), generateContentKey(), generateContentKey()];
      for (const [i, k] of keys.entries()) await store.putKey(`rot-${i}`, k);
      expect(await store.rotateMasterKey(newKey)).to.equal(3);
      expect(Buffer.from((await store.getKey("rot-1"))!).equals(Buffer.from(keys[1]!))).to.equal(true); // the same store now uses the new key
      await store.close();
      const withOld = await openKeyStore({ dataDir: dir, masterKey: oldKey, env: {} });
      let error: unknown;
      await withOld.getKey("rot-0").catch((e) => (error = e));
      expect(error).to.be.instanceOf(KeyUnsealError);
      // Rotating from the wrong current key fails before writing: the new key still opens everything.
      error = undefined;
      await withOld.rotateMasterKey(new Uint8Array(randomBytes(32))).catch((e) => (error = e));
      expect(error).to.be.instanceOf(KeyUnsealError);
      await withOld.close();
      const withNew = await openKeyStore({ dataDir: dir, masterKey: newKey, env: {} });
      for (const [i, k] of keys.entries()) expect(Buffer.from((await withNew.getKey(`rot-${i}`))!).equals(Buffer.from(k))).to.equal(true);
      await withNew.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a server still running with the old master key after a rotation is refused on read and write, with what to do; a re-run rotation picks up a key sealed under the old one", async () => {
    const oldKey = new Uint8Array(randomBytes(32));
    const newKey = new Uint8Array(randomBytes(32));
    const dir = await mkdtemp(path.join(tmpdir(), "sv-rotate-stale-"));
    const open = (masterKey: Uint8Array) => openKeyStore({ dataDir: dir, masterKey, env: {} });
    try {
      // Two handles on one database: `stale` is a running web server, the other runs the rotation.
      const stale = await open(oldKey);
      const before = generateContentKey();
      await stale.putKey("stale-0", before);
      const cli = await open(oldKey);
      expect(await cli.rotateMasterKey(newKey)).to.equal(1);
      await cli.close();

      let error: unknown;
      await stale.getKey("stale-0").catch((e) => (error = e));
      expect(error).to.be.instanceOf(MasterKeyMismatchError);
      expect(String((error as Error).message)).to.match(/restart it with the current STREAMVAULT_MASTER_KEY/);
      error = undefined;
      await stale.putKey("stale-1", generateContentKey()).catch((e) => (error = e));
      expect(error).to.be.instanceOf(MasterKeyMismatchError);
      expect(String((error as Error).message)).to.match(/not stored/);
      await stale.close();

      const withNew = await open(newKey);
      expect(await withNew.hasKey("stale-1"), "the stale server wrote nothing under the old master key").to.equal(false);
      expect(Buffer.from((await withNew.getKey("stale-0"))!).equals(Buffer.from(before))).to.equal(true);
      const straggler = generateContentKey();
      await withNew.putKey("straggler", straggler);
      await withNew.close();
      // A row sealed under the old key anyway (a stale write racing the rotation) is named...
      const db = new PGlite(path.join(dir, "db"));
      await db.query("UPDATE content_keys SET sealed_key = $1, kek_check = $2 WHERE content_id = 'straggler'", [sealKey(deriveKek(oldKey), "straggler", straggler), kekCheckOf(deriveKek(oldKey))]);
      await db.close();
      const reader = await open(newKey);
      error = undefined;
      await reader.getKey("straggler").catch((e) => (error = e));
      expect(error).to.be.instanceOf(MasterKeyMismatchError);
      expect(String((error as Error).message)).to.match(/run `streamvault keys rotate-master-key` again with that earlier key/);
      await reader.close();
      // ...and a rotation re-run with the old key as the current one re-seals just that row.
      const rerun = await open(oldKey);
      expect(await rerun.rotateMasterKey(newKey)).to.equal(1);
      await rerun.close();
      const after = await open(newKey);
      expect(Buffer.from((await after.getKey("straggler"))!).equals(Buffer.from(straggler))).to.equal(true);
      expect(Buffer.from((await after.getKey("stale-0"))!).equals(Buffer.from(before))).to.equal(true);
      await after.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("deriveEscrowKeyPair refuses a signer whose two signatures differ", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    let n = 0;
    const flaky = async () => ((await account.signMessage({ message: `attempt ${n++}` })) as `0x${string}`);
    let error: unknown;
    await deriveEscrowKeyPair(flaky, { chainId: 1, verifyingContract: account.address, creator: account.address }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(NonDeterministicSignerError);
  });
});

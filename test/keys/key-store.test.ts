import { expect } from "chai";
import { mkdtemp, rm, stat, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { generateContentKey } from "@streamvault/lib/crypto";
import { deriveKek, KeyConflictError, KeyUnsealError, loadMasterKey, openKeyStore, sealKey, unsealKey } from "@streamvault/lib/keys";
import type { KeyStore } from "@streamvault/lib/keys";

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
  const run = randomBytes(4).toString("hex");
  keyStoreSuite("Postgres (TEST_DATABASE_URL)", (masterKey) => openKeyStore({ databaseUrl: process.env.TEST_DATABASE_URL, masterKey }), `pg-${run}`);
}

/**
 * A track uploaded with the CLI while the server runs is unlockable at once. The server opens the
 * embedded key store first (as web/lib/server/keystore.ts does), then `streamvault upload` runs as
 * its own process on the same STREAMVAULT_HOME: the key it stores must be released by the running
 * key-release service, without a restart (it used to answer 404 "no key is stored" until one).
 */
import { expect } from "chai";
import path from "node:path";
import { createPublicClient, http, type Hex, type PublicClient } from "viem";
import { foundry } from "viem/chains";
import { decryptManifestSegment } from "@streamvault/lib/crypto";
import { openKeyStore, type KeyStore } from "@streamvault/lib/keys";
import { startKeyReleaseServer, type KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { parseManifest } from "@streamvault/lib/manifest";
import { LocalStore } from "@streamvault/lib/storage";
import { signIn, SIWE_DOMAIN, SIWE_URI } from "../keyrelease/fixture.ts";
import { freshChain } from "./fixture.ts";
import { CREATOR, MASTER_KEY, cliEnv, makeTone, runCli } from "./helpers.ts";

describe("cli: upload while the key-release server runs (embedded key store)", function () {
  this.timeout(240_000);
  let home: string;
  let env: NodeJS.ProcessEnv;
  let keyStore: KeyStore;
  let server: KeyReleaseServer;
  let track: string;

  before(async () => {
    const { dir, chain } = await freshChain("sv-cli-keys-");
    home = path.join(dir, "home");
    env = cliEnv(chain, home);
    track = path.join(dir, "live-upload.wav");
    await makeTone(track, 4, 620);
    keyStore = await openKeyStore({ dataDir: path.join(home, "keys"), masterKey: MASTER_KEY, env: {} });
    const publicClient = createPublicClient({ chain: foundry, transport: http(chain.rpcUrl) }) as PublicClient;
    server = await startKeyReleaseServer({
      port: 0,
      publicClient,
      deployment: chain.deployment,
      keyStore,
      siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI },
      dataDir: path.join(home, "keyrelease"),
      logger: { info() {}, warn() {}, error() {} },
    });
  });
  after(async () => {
    await server?.close();
    await keyStore?.close();
  });

  it("releases the key of a track the CLI uploaded after the server opened the key store, without a restart", async () => {
    const cookie = await signIn(server.url, CREATOR);
    const upload = await runCli(["upload", track, "--tier", "premium", "--price", "0.01", "--json"], env);
    expect(upload.code, upload.stderr).to.equal(0);
    const item = (JSON.parse(upload.stdout) as { items: { ok: boolean; contentId: Hex; manifestCid: string }[] }).items[0]!;
    expect(item.ok).to.equal(true);

    const client = await generateEphemeralKeyPair();
    const res = await fetch(`${server.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) });
    const body = (await res.json()) as { wrapped: WrappedKey; wallet: string; error?: string; message?: string };
    expect(res.status, body.message).to.equal(200);
    const key = await unwrapContentKey({ privateKey: client.privateKey, wrapped: body.wrapped, contentId: item.contentId, wallet: body.wallet });
    // The released key opens the track's stored segments.
    const store = new LocalStore({ dir: path.join(home, "pieces") });
    const manifest = parseManifest(await store.get(item.manifestCid));
    const high = manifest.variants.find((v) => v.encrypted)!;
    const plain = decryptManifestSegment(key, manifest.contentId, high, high.segments[0]!, await store.get(high.segments[0]!.pieceCid));
    expect(plain[0]).to.equal(0x47); // MPEG-TS sync byte
    // The server's own handle sees it too (it owns the database the CLI wrote through).
    expect(await keyStore.hasKey(item.contentId)).to.equal(true);
  });
});

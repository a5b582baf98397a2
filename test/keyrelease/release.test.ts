import { expect } from "chai";
import { cpSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { getAddress, toFunctionSelector, type Address, type Hex } from "viem";
import { ABIS, contractOf } from "@streamvault/lib/deployments";
import { isUnknownContentError } from "@streamvault/lib/keyrelease/gate.ts";
import { createKeyReleaseService, type KeyReleaseService, type Logger } from "@streamvault/lib/keyrelease/service.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { COIN_MIN, PASS_PRICE, SIWE_DOMAIN, SIWE_URI, SUB_PRICE, signIn, siweMessage, startChainFixture, type ChainFixture, startFixtureServer } from "./fixture.ts";

interface NonceBody {
  nonce: string;
  domain: string;
  uri: string;
  chainId: number;
  statement: string;
  issuedAt: string;
  expirationTime: string;
}

/** Collects log lines in memory (the service must never pass key material to its logger). */
function memoryLogger(lines: string[]): Logger {
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push(JSON.stringify({ level, message, ...fields }));
  return { info: push("info"), warn: push("warn"), error: push("error") };
}

describe("key release: SIWE sessions and chain-gated keys", function () {
  this.timeout(60_000);
  let f: ChainFixture;
  let srv: KeyReleaseServer;
  let clockOffsetMs = 0;
  const logLines: string[] = [];
  let item: { contentId: Hex; key: Uint8Array };
  let creatorCookie: string;

  const ca = () => contractOf(f.deployment, "ContentAccess");

  async function getNonce(base = srv.url): Promise<NonceBody> {
    const res = await fetch(`${base}/api/auth/nonce`);
    expect(res.status).to.equal(200);
    return (await res.json()) as NonceBody;
  }

  async function verify(message: string, signature: Hex, base = srv.url) {
    const res = await fetch(`${base}/api/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message, signature }) });
    return { status: res.status, body: (await res.json()) as Record<string, string>, cookie: res.headers.get("set-cookie") };
  }

  async function requestKey(cookie: string | undefined, contentId: Hex, base = srv.url) {
    const client = await generateEphemeralKeyPair();
    const res = await fetch(`${base}/api/keys/${contentId}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ ephemeralPublicKey: client.publicKey }),
    });
    const body = (await res.json()) as Record<string, unknown> & { wrapped: WrappedKey; wallet: Address; message: string; error: string; access: { reason: string } };
    return { status: res.status, body, privateKey: client.privateKey, headers: res.headers };
  }

  async function expectRelease(cookie: string, contentId: Hex, key: Uint8Array, reason: string) {
    const r = await requestKey(cookie, contentId);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body.access.reason).to.equal(reason);
    expect(r.headers.get("cache-control")).to.equal("no-store");
    const out = await unwrapContentKey({ privateKey: r.privateKey, wrapped: r.body.wrapped, contentId, wallet: r.body.wallet });
    expect(Buffer.from(out).equals(Buffer.from(key)), "unwrapped key equals the stored key").to.equal(true);
    return r;
  }

  async function auditRows(where: string, params: unknown[]) {
    return (await srv.service.db.query<{ event: string; outcome: string; wallet: string; reason: string; content_id: string }>(`SELECT event, outcome, wallet, reason, content_id FROM audit_log WHERE ${where} ORDER BY id`, params)).rows;
  }

  before(async () => {
    f = await startChainFixture();
    srv = await startFixtureServer(f, {
      rateLimits: { wallet: { points: 1000, durationSeconds: 60 }, ip: { points: 100_000, durationSeconds: 60 } },
      now: () => Date.now() + clockOffsetMs,
      logger: memoryLogger(logLines),
    });
    item = await f.registerItem("premium-1");
    creatorCookie = await signIn(srv.url, f.creator);
  });
  after(async () => {
    await srv?.close();
    await f?.stop();
  });

  describe("Sign-In with Ethereum", () => {
    it("issues a nonce with the fields to sign and a session cookie that is HttpOnly, Secure, SameSite=Strict", async () => {
      const n = await getNonce();
      expect(n.nonce).to.match(/^[A-Za-z0-9]{16,}$/);
      expect(n).to.include({ domain: SIWE_DOMAIN, uri: SIWE_URI, chainId: 31337 });
      const account = await f.newAccount();
      const message = siweMessage(n, account.address);
      const r = await verify(message, await account.signMessage({ message }));
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.wallet).to.equal(account.address);
      expect(r.cookie).to.match(/^__Host-sv_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict$/);
      // Only a hash of the session id is stored.
      const id = r.cookie!.split(";")[0]!.split("=")[1]!;
      const rows = (await srv.service.db.query<{ id_hash: string }>("SELECT id_hash FROM sessions WHERE wallet = $1", [account.address])).rows;
      expect(rows).to.have.length(1);
      expect(rows[0]!.id_hash).to.not.contain(id);
    });

    it("refuses a replayed nonce", async () => {
      const account = await f.newAccount();
      const message = siweMessage(await getNonce(), account.address);
      const signature = await account.signMessage({ message });
      expect((await verify(message, signature)).status).to.equal(200);
      const replay = await verify(message, signature);
      expect(replay.status).to.equal(401);
      expect(replay.body.error).to.equal("nonce_used");
      expect(replay.body.message).to.match(/nonce already used/);
      expect(replay.cookie).to.equal(null);
    });

    it("nonces are CSPRNG output of 128 bits or more: no nonce shares a run of 8 characters with the one before (issue 10 #2)", async () => {
      // viem's generateSiweNonce slides a window over one Math.random buffer: each nonce was the
      // previous one shifted by a character, so seeing one nonce predicted the next.
      const nonces: string[] = [];
      for (let i = 0; i < 40; i++) nonces.push((await getNonce()).nonce);
      expect(new Set(nonces).size).to.equal(nonces.length);
      for (const nonce of nonces) {
        // SIWE's grammar (alphanumeric, >= 8 characters); 32 hex characters = 128 bits.
        expect(nonce).to.match(/^[0-9a-f]{32,}$/);
      }
      for (let i = 1; i < nonces.length; i++) {
        const [previous, next] = [nonces[i - 1]!, nonces[i]!];
        for (let at = 0; at + 8 <= next.length; at++) {
          expect(previous, `nonce ${i} repeats "${next.slice(at, at + 8)}" of nonce ${i - 1}`).to.not.include(next.slice(at, at + 8));
        }
      }
    });

    it("refuses an address that is not EIP-55 checksummed (all lowercase), saying how to write it (issue 10 #4)", async () => {
      const account = await f.newAccount();
      const lower = account.address.toLowerCase() as Address;
      expect(lower).to.not.equal(account.address);
      // createSiweMessage checksums the address itself: a hand-built message (or another library) need not.
      const message = siweMessage(await getNonce(), account.address).replace(`\n${account.address}\n`, `\n${lower}\n`);
      expect(message).to.include(lower);
      const r = await verify(message, await account.signMessage({ message }));
      expect(r.status, JSON.stringify(r.body)).to.equal(400);
      expect(r.body.error).to.equal("malformed_message");
      expect(r.body.message).to.include("EIP-55").and.include(account.address);
      expect(r.cookie).to.equal(null);
      // The same wallet with its checksummed address signs in.
      const fixed = siweMessage(await getNonce(), account.address);
      expect((await verify(fixed, await account.signMessage({ message: fixed }))).status).to.equal(200);
    });

    it("refuses a nonce the server never issued", async () => {
      const account = await f.newAccount();
      const n = await getNonce();
      const message = siweMessage({ ...n, nonce: "Zz" + n.nonce.slice(2) }, account.address);
      const r = await verify(message, await account.signMessage({ message }));
      expect(r.status).to.equal(401);
      expect(r.body.error).to.equal("unknown_nonce");
    });

    it("refuses an expired message, and one issued too long ago or in the future", async () => {
      const account = await f.newAccount();
      const cases: [Parameters<typeof siweMessage>[2], string][] = [
        [{ issuedAt: new Date(Date.now() - 120_000), expirationTime: new Date(Date.now() - 1000) }, "message_expired"],
        [{ issuedAt: new Date(Date.now() - 3_600_000) }, "message_too_old"],
        [{ issuedAt: new Date(Date.now() + 600_000) }, "issued_in_future"],
      ];
      for (const [overrides, code] of cases) {
        const message = siweMessage(await getNonce(), account.address, overrides);
        const r = await verify(message, await account.signMessage({ message }));
        expect(r.status, code).to.equal(401);
        expect(r.body.error).to.equal(code);
      }
    });

    it("refuses a wrong domain, a wrong chain id and a wrong URI, saying what was expected", async () => {
      const account = await f.newAccount();
      const cases: [Parameters<typeof siweMessage>[2], string, RegExp][] = [
        [{ domain: "evil.example" }, "wrong_domain", /this site is "app\.streamvault\.test"/],
        [{ chainId: 1 }, "wrong_chain", /switch your wallet to chain 31337/],
        [{ uri: "https://evil.example/login" }, "wrong_uri", /sign in from "https:\/\/app\.streamvault\.test"/],
      ];
      for (const [overrides, code, text] of cases) {
        const message = siweMessage(await getNonce(), account.address, overrides);
        const r = await verify(message, await account.signMessage({ message }));
        expect(r.status, code).to.equal(401);
        expect(r.body.error).to.equal(code);
        expect(r.body.message).to.match(text);
      }
    });

    it("refuses a signature of another wallet", async () => {
      const victim = await f.newAccount();
      const attacker = await f.newAccount();
      const message = siweMessage(await getNonce(), victim.address);
      const r = await verify(message, await attacker.signMessage({ message }));
      expect(r.status).to.equal(401);
      expect(r.body.error).to.equal("bad_signature");
      // A failed attempt does not burn the nonce for the real owner.
      expect((await verify(message, await victim.signMessage({ message }))).status).to.equal(200);
    });

    it("signs in a smart-contract wallet through ERC-1271 (verifySiweMessage with the public client), and refuses a non-owner's signature", async () => {
      const owner = await f.newAccount();
      const wallet = await deployErc1271Wallet(f, owner.address);
      const message = siweMessage(await getNonce(), wallet);
      const forged = await verify(message, await (await f.newAccount()).signMessage({ message }));
      expect(forged.status).to.equal(401);
      expect(forged.body.error).to.equal("bad_signature");
      const r = await verify(message, await owner.signMessage({ message }));
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.wallet).to.equal(wallet);
    });

    it("refuses malformed bodies and POSTs from a foreign Origin", async () => {
      const bad = await fetch(`${srv.url}/api/auth/verify`, { method: "POST", body: "{" });
      expect(bad.status).to.equal(400);
      const res = await fetch(`${srv.url}/api/keys/${item.contentId}`, {
        method: "POST",
        headers: { cookie: creatorCookie, origin: "https://evil.example" },
        body: JSON.stringify({ ephemeralPublicKey: (await generateEphemeralKeyPair()).publicKey }),
      });
      expect(res.status).to.equal(403);
      expect(((await res.json()) as { error: string }).error).to.equal("bad_origin");
    });

    it("an expired session and a logged-out session are refused with what to do", async () => {
      const account = f.creator;
      const cookie = await signIn(srv.url, account);
      expect((await requestKey(cookie, item.contentId)).status).to.equal(200);
      clockOffsetMs = 3_601_000;
      try {
        const r = await requestKey(cookie, item.contentId);
        expect(r.status).to.equal(401);
        expect(r.body.message).to.equal("session expired: sign in again");
      } finally {
        clockOffsetMs = 0;
      }
      const out = await fetch(`${srv.url}/api/auth/logout`, { method: "POST", headers: { cookie } });
      expect(out.status).to.equal(200);
      expect(out.headers.get("set-cookie")).to.match(/Max-Age=0/);
      const after = await requestKey(cookie, item.contentId);
      expect(after.status).to.equal(401);
      expect(after.body.error).to.equal("session_ended");
      const none = await requestKey(undefined, item.contentId);
      expect(none.status).to.equal(401);
      expect(none.body.message).to.match(/not signed in: sign in with your wallet/);
    });
  });

  describe("GET /api/auth/session", () => {
    const current = async (cookie?: string) => {
      const res = await fetch(`${srv.url}/api/auth/session`, { headers: cookie ? { cookie } : {} });
      expect(res.status).to.equal(200);
      expect(res.headers.get("cache-control")).to.equal("no-store");
      return (await res.json()) as { wallet: string | null; reason?: string };
    };

    it("says which wallet the cookie signs in, and null (with why) when none, expired or signed out", async () => {
      expect(await current()).to.deep.equal({ wallet: null, reason: "not_signed_in" });
      const fan = await f.newAccount();
      const cookie = await signIn(srv.url, fan);
      expect((await current(cookie)).wallet).to.equal(fan.address);
      clockOffsetMs = 3_601_000;
      try {
        expect(await current(cookie)).to.deep.equal({ wallet: null, reason: "session_expired" });
      } finally {
        clockOffsetMs = 0;
      }
      await fetch(`${srv.url}/api/auth/logout`, { method: "POST", headers: { cookie } });
      expect(await current(cookie)).to.deep.equal({ wallet: null, reason: "session_ended" });
      expect((await fetch(`${srv.url}/api/auth/session`, { method: "POST" })).status).to.equal(405);
    });
  });

  describe("release decisions read from the chain at the latest block", () => {
    it("creator: released, and the unwrapped key equals the stored key", async () => {
      await expectRelease(creatorCookie, item.contentId, item.key, "creator");
    });

    it("purchase: released after buying, refused before", async () => {
      const buyer = await f.newAccount();
      const cookie = await signIn(srv.url, buyer);
      const before = await requestKey(cookie, item.contentId);
      expect(before.status).to.equal(403);
      expect(before.body.error).to.equal("no_access");
      expect(before.body.message).to.equal("no access: hold at least 100000000000000000000 (base units) of the creator's coin or buy a pass or subscribe or buy access to this item");
      await f.purchase(buyer, item.contentId);
      await expectRelease(cookie, item.contentId, item.key, "purchase");
    });

    it("pass holder: released; refused once the pass is transferred away", async () => {
      const holder = await f.newAccount();
      const friend = await f.newAccount();
      await f.write(holder, f.pass, ABIS.CreatorPass, "mint", [1n], PASS_PRICE);
      const cookie = await signIn(srv.url, holder);
      await expectRelease(cookie, item.contentId, item.key, "pass");
      const tokenId = (await f.publicClient.getContractEvents({ address: f.pass, abi: ABIS.CreatorPass, eventName: "Transfer", args: { to: holder.address }, fromBlock: 0n, strict: true }))[0]!.args.tokenId;
      await f.write(holder, f.pass, ABIS.CreatorPass, "transferFrom", [holder.address, friend.address, tokenId]);
      const r = await requestKey(cookie, item.contentId);
      expect(r.status).to.equal(403);
      expect(r.body.message).to.match(/^no access: .*buy a pass or subscribe/);
      // The pass works for its new holder at once.
      await expectRelease(await signIn(srv.url, friend), item.contentId, item.key, "pass");
    });

    it("coin holder: released; refused once the balance drops below the minimum", async () => {
      const holder = await f.newAccount();
      await f.write(f.creator, f.coin, ABIS.CreatorCoin, "distribute", [[holder.address], [COIN_MIN]]);
      const cookie = await signIn(srv.url, holder);
      await expectRelease(cookie, item.contentId, item.key, "coin");
      await f.write(holder, f.coin, ABIS.CreatorCoin, "transfer", [f.creator.address, 1n]);
      const r = await requestKey(cookie, item.contentId);
      expect(r.status).to.equal(403);
      expect(r.body.error).to.equal("no_access");
    });

    it("subscriber: released", async () => {
      const fan = await f.newAccount();
      await f.write(fan, ca().address, ABIS.ContentAccess, "subscribe", ["0x0000000000000000000000000000000000000000", 1, SUB_PRICE], SUB_PRICE);
      await expectRelease(await signIn(srv.url, fan), item.contentId, item.key, "subscription");
    });

    it("unknown content is a 404; content without a stored key is a 404 that says so; bad input is a 400", async () => {
      const unknown = await requestKey(creatorCookie, ("0x" + "11".repeat(32)) as Hex);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error).to.equal("unknown_content");
      const externalId = ("0x" + "22".repeat(32)) as Hex;
      await f.write(f.creator, ca().address, ABIS.ContentAccess, "registerContent", [externalId, "0x01", 1, { minCoinBalance: 0n, minPasses: 0n, inSubscription: false, paymentToken: "0x0000000000000000000000000000000000000000", price: 0n, duration: 0 }, []]);
      const keyless = await f.publicClient.readContract({ address: ca().address, abi: ABIS.ContentAccess, functionName: "contentIdOf", args: [f.creator.address, externalId] });
      const noKey = await requestKey(creatorCookie, keyless);
      expect(noKey.status).to.equal(404);
      expect(noKey.body.error).to.equal("no_key");
      const badId = await requestKey(creatorCookie, "0x1234" as Hex);
      expect(badId.status).to.equal(400);
      const badKey = await fetch(`${srv.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie: creatorCookie }, body: JSON.stringify({ ephemeralPublicKey: "AAAA" }) });
      expect(badKey.status).to.equal(400);
      expect(((await badKey.json()) as { error: string }).error).to.equal("bad_public_key");
    });

    it("unknown content is a 404 also when the chain client comes from another copy of viem (the web app's, issue 10 #3)", async () => {
      // A client from another copy of viem (a bundled app's): errors it throws are not
      // instances of the root viem's classes, and an unknown id used to answer 503 "try again".
      const webViem = await importWebViem();
      const webClient = webViem.createPublicClient({ transport: webViem.http(f.anvil.rpcUrl) });
      const webSrv = await startFixtureServer(f, { publicClient: webClient as never, logger: memoryLogger([]) });
      try {
        const cookie = await signIn(webSrv.url, f.creator);
        const unknown = await requestKey(cookie, ("0x" + "33".repeat(32)) as Hex, webSrv.url);
        expect(unknown.status, JSON.stringify(unknown.body)).to.equal(404);
        expect(unknown.body.error).to.equal("unknown_content");
        expect(unknown.body.message).to.match(/check the content id/);
        // Known content still releases through that client.
        const known = await requestKey(cookie, item.contentId, webSrv.url);
        expect(known.status, JSON.stringify(known.body)).to.equal(200);
      } finally {
        await webSrv.close();
      }
    });

    it("classifies errors by shape, not class: a duck-typed UnknownContent revert is unknown content, anything else is rethrown", () => {
      const revert = (errorName: string) => ({ name: "ContractFunctionExecutionError", shortMessage: "reverted", cause: { name: "ContractFunctionRevertedError", data: { errorName, args: [] } } });
      expect(isUnknownContentError(revert("UnknownContent"))).to.equal(true);
      // Decoded by an error's own `walk`, as another viem copy's BaseError offers it.
      const walked = { name: "ContractFunctionExecutionError", walk: (fn: (e: unknown) => boolean) => [{ name: "ContractFunctionRevertedError", data: { errorName: "UnknownContent" } }].find(fn) };
      expect(isUnknownContentError(walked)).to.equal(true);
      // Undecoded revert data with UnknownContent(bytes32)'s selector.
      expect(isUnknownContentError({ name: "ContractFunctionExecutionError", cause: { name: "ContractFunctionRevertedError", raw: toFunctionSelector("UnknownContent(bytes32)") + "11".repeat(32) } })).to.equal(true);
      expect(isUnknownContentError(revert("NotCreator"))).to.equal(false);
      expect(isUnknownContentError({ name: "HttpRequestError", shortMessage: "HTTP request failed." })).to.equal(false);
      expect(isUnknownContentError(new Error("UnknownContent"))).to.equal(false);
      const loop: { name: string; cause?: unknown } = { name: "Loop" };
      loop.cause = loop;
      expect(isUnknownContentError(loop)).to.equal(false);
    });

    it("accepts the ephemeral key as a public JWK too", async () => {
      const client = await generateEphemeralKeyPair();
      const res = await fetch(`${srv.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie: creatorCookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicJwk }) });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { wrapped: WrappedKey; wallet: string };
      const out = await unwrapContentKey({ privateKey: client.privateKey, wrapped: body.wrapped, contentId: item.contentId, wallet: body.wallet });
      expect(Buffer.from(out).equals(Buffer.from(item.key))).to.equal(true);
    });

    it("access lapsed by one second is refused (anvil evm_setNextBlockTimestamp + evm_mine)", async () => {
      const buyer = await f.newAccount();
      const lapsing = await f.registerItem("lapsing");
      await f.purchase(buyer, lapsing.contentId);
      const expiresAt = await f.publicClient.readContract({ address: ca().address, abi: ABIS.ContentAccess, functionName: "purchaseExpiry", args: [lapsing.contentId, buyer.address] });
      const cookie = await signIn(srv.url, buyer);
      await f.rpc("evm_setNextBlockTimestamp", [Number(expiresAt) - 1]);
      await f.rpc("evm_mine");
      await expectRelease(cookie, lapsing.contentId, lapsing.key, "purchase");
      await f.rpc("evm_setNextBlockTimestamp", [Number(expiresAt)]);
      await f.rpc("evm_mine");
      const r = await requestKey(cookie, lapsing.contentId);
      expect(r.status).to.equal(403);
      expect(r.body.message).to.equal(`access expired at ${new Date(Number(expiresAt) * 1000).toISOString()}: hold at least ${COIN_MIN} (base units) of the creator's coin or buy a pass or subscribe or buy access to this item`);
    });
  });

  describe("records", () => {
    it("writes an audit row for every release and every denial, and counts plays", async () => {
      const fan = await f.newAccount();
      const cookie = await signIn(srv.url, fan);
      const plays0 = (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as { keyReleases: number; uniqueWallets: number };
      expect((await requestKey(cookie, item.contentId)).status).to.equal(403);
      await f.purchase(fan, item.contentId);
      await expectRelease(cookie, item.contentId, item.key, "purchase");
      await expectRelease(cookie, item.contentId, item.key, "purchase");
      const rows = await auditRows("wallet = $1 AND event = 'release'", [fan.address]);
      expect(rows.map((r) => [r.outcome, r.reason])).to.deep.equal([
        ["denied", "no_access"],
        ["allowed", "purchase"],
        ["allowed", "purchase"],
      ]);
      expect(rows.every((r) => r.content_id === item.contentId.toLowerCase())).to.equal(true);
      const signIns = await auditRows("wallet = $1 AND event = 'sign-in'", [fan.address]);
      expect(signIns.map((r) => r.outcome)).to.deep.equal(["allowed"]);
      const plays = (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as { keyReleases: number; uniqueWallets: number; segments: number };
      expect(plays.keyReleases).to.equal(plays0.keyReleases + 2);
      expect(plays.uniqueWallets).to.equal(plays0.uniqueWallets + 1);
      expect(plays.segments).to.equal(0);
      const failedSignIn = await auditRows("event = 'sign-in' AND outcome = 'denied'", []);
      expect(failedSignIn.map((r) => r.reason)).to.include.members(["nonce_used", "wrong_domain", "wrong_chain", "wrong_uri", "bad_signature", "message_expired"]);
    });

    it("never logs the key: console output captured during releases holds no key bytes in any encoding", async () => {
      // A second service on the same chain, called through the framework-agnostic handler with the
      // default console logger; every console/stdout/stderr write is captured.
      const service: KeyReleaseService = await createKeyReleaseService({
        publicClient: f.publicClient,
        deployment: f.deployment,
        keyStore: f.keyStore,
        siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI },
        db: srv.service.db,
      });
      const captured: string[] = [];
      const originals = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug, out: process.stdout.write, err: process.stderr.write };
      const grab = (...args: unknown[]) => void captured.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))).join(" "));
      const released: Uint8Array[] = [];
      try {
        console.log = console.info = console.warn = console.error = console.debug = grab;
        process.stdout.write = ((chunk: unknown) => (grab(String(chunk)), true)) as typeof process.stdout.write;
        process.stderr.write = ((chunk: unknown) => (grab(String(chunk)), true)) as typeof process.stderr.write;
        const { handlers } = service;
        const n = (await (await handlers.nonce(new Request("http://127.0.0.1/api/auth/nonce"))).json()) as NonceBody;
        const message = siweMessage(n, f.creator.address);
        const login = await handlers.verify(new Request("http://127.0.0.1/api/auth/verify", { method: "POST", body: JSON.stringify({ message, signature: await f.creator.signMessage({ message }) }) }));
        const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
        for (let i = 0; i < 3; i++) {
          const client = await generateEphemeralKeyPair();
          const res = await handlers.releaseKey(new Request(`http://127.0.0.1/api/keys/${item.contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) }));
          const body = (await res.json()) as { wrapped: WrappedKey; wallet: string };
          released.push(await unwrapContentKey({ privateKey: client.privateKey, wrapped: body.wrapped, contentId: item.contentId, wallet: body.wallet }));
        }
        // A denial is logged too.
        await handlers.releaseKey(new Request(`http://127.0.0.1/api/keys/${item.contentId}`, { method: "POST", body: "{}" }));
      } finally {
        Object.assign(console, { log: originals.log, info: originals.info, warn: originals.warn, error: originals.error, debug: originals.debug });
        process.stdout.write = originals.out;
        process.stderr.write = originals.err;
        await service.close();
      }
      const text = captured.join("\n") + "\n" + logLines.join("\n");
      expect(captured.join("\n")).to.contain("key released");
      expect(captured.join("\n")).to.contain("key request denied");
      expect(released).to.have.length(3);
      for (const key of [item.key, ...released]) {
        const b = Buffer.from(key);
        for (const encoded of [b.toString("hex"), b.toString("hex").toUpperCase(), b.toString("base64"), b.toString("base64url"), b.toString("base64").slice(0, 20), b.toString("hex").slice(0, 24), Array.from(key).join(",")]) {
          expect(text, "key material in logs").to.not.contain(encoded);
        }
      }
    });
  });

  describe("rate limits", () => {
    it("per wallet: the request over the limit gets 429 with Retry-After and an audited denial", async () => {
      const strict = await startFixtureServer(f, {
        rateLimits: { wallet: { points: 3, durationSeconds: 60 }, ip: { points: 1000, durationSeconds: 60 } },
        // Its own database: limits are kept in the database, shared by every service using it.
        logger: memoryLogger([]),
      });
      try {
        const cookie = await signIn(strict.url, f.creator);
        for (let i = 0; i < 3; i++) expect((await requestKey(cookie, item.contentId, strict.url)).status).to.equal(200);
        const limited = await requestKey(cookie, item.contentId, strict.url);
        expect(limited.status).to.equal(429);
        expect(limited.body.message).to.match(/too many key requests for this wallet: try again in \d+ s/);
        expect(Number(limited.headers.get("retry-after"))).to.be.greaterThan(0);
        // Another wallet is not affected.
        const other = await f.newAccount();
        await f.write(other, ca().address, ABIS.ContentAccess, "subscribe", ["0x0000000000000000000000000000000000000000", 1, SUB_PRICE], SUB_PRICE);
        expect((await requestKey(await signIn(strict.url, other), item.contentId, strict.url)).status).to.equal(200);
        const denied = (await strict.service.db.query<{ wallet: string }>("SELECT wallet FROM audit_log WHERE outcome = 'denied' AND event = 'release' AND reason = 'rate_limited'")).rows;
        expect(denied.map((r) => r.wallet)).to.deep.equal([f.creator.address]);
      } finally {
        await strict.close();
      }
    });

    it("per IP: nonce requests over the limit get 429", async () => {
      const strict = await startFixtureServer(f, {
        rateLimits: { ip: { points: 5, durationSeconds: 60 } },
        logger: memoryLogger([]),
      });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++) statuses.push((await fetch(`${strict.url}/api/auth/nonce`)).status);
        expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
      } finally {
        await strict.close();
      }
    });
  });
});

/** Compiles (solc wasm, ~1 s) and deploys a minimal ERC-1271 wallet whose owner's personal_sign signatures are valid. */
async function deployErc1271Wallet(f: ChainFixture, owner: Address): Promise<Address> {
  const solc = createRequire(import.meta.url)("solc") as { compile(input: string): string };
  const source = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
contract Wallet1271 {
    address public immutable owner;
    constructor(address o) { owner = o; }
    function isValidSignature(bytes32 hash, bytes calldata sig) external view returns (bytes4) {
        if (sig.length != 65) return 0xffffffff;
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        return ecrecover(hash, v, r, s) == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}`;
  const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources: { "W.sol": { content: source } }, settings: { outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } } })));
  const { abi, evm } = output.contracts["W.sol"].Wallet1271;
  const deployer = await f.newAccount();
  const hash = await f.wallet(deployer).deployContract({ abi, bytecode: `0x${evm.bytecode.object}`, args: [owner] });
  const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
  return getAddress(receipt.contractAddress!);
}

/**
 * A second copy of viem, as a bundled app or another package's own dependency loads it: the same
 * files under another path, so every class is a different one (the repository itself now installs
 * one viem, hoisted by npm workspaces). Placed under node_modules/.cache so its own imports (ox,
 * abitype, @noble/*) resolve from the root node_modules.
 */
async function importWebViem(): Promise<typeof import("viem")> {
  const rootPackage = createRequire(import.meta.url).resolve("viem/package.json");
  const copy = join(dirname(dirname(rootPackage)), ".cache", "streamvault-second-viem", "node_modules", "viem");
  if (!existsSync(join(copy, "package.json"))) cpSync(dirname(rootPackage), copy, { recursive: true });
  return import(pathToFileURL(join(copy, "_esm", "index.js")).href);
}

/**
 * Single-use, body-bound signed requests (lib/http/signed-request.ts) with consumed nonces in a real
 * database (PGlite, the key-release schema): a replay is refused, also when two requests race; a
 * signature cannot carry another body, wallet, action or time.
 */
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { openKeyReleaseDb, type SqlClient } from "../../lib/keyrelease/db.ts";
import { SqlNonceStore } from "../../lib/http/signed-request-nonces.ts";
import {
  bodyMatchesClaim,
  MESSAGE_HEADER,
  sha256Hex,
  signedRequestMessage,
  signRequest,
  SIGNATURE_HEADER,
  verifySignedRequest,
  type SignedRequestClaim,
} from "../../lib/http/signed-request.ts";

describe("signed creator requests: single use, bound to the body", function () {
  this.timeout(60_000);
  let db: SqlClient;
  let nonces: SqlNonceStore;
  const creator = privateKeyToAccount(generatePrivateKey());
  const other = privateKeyToAccount(generatePrivateKey());
  const sign = (account = creator) => (args: { message: string }) => account.signMessage(args);
  const body = JSON.stringify({ trigger: "manual" });

  before(async () => {
    db = await openKeyReleaseDb({ pgliteWorker: false });
    nonces = new SqlNonceStore(db);
  });
  after(async () => db?.close());

  const verify = (headers: Record<string, string>, extra: Partial<Parameters<typeof verifySignedRequest>[1]> = {}) =>
    verifySignedRequest(new Headers(headers), { action: "backup", creator: creator.address, nonces, ...extra });

  it("accepts the creator's signed request once and the body it was signed for", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    const claim = await verify(headers);
    expect(claim.ok, JSON.stringify(claim)).to.equal(true);
    expect(await bodyMatchesClaim(claim as SignedRequestClaim, new TextEncoder().encode(body))).to.equal(true);
    expect(await bodyMatchesClaim(claim as SignedRequestClaim, { sha256Hex: await sha256Hex(body) })).to.equal(true);
  });

  it("refuses a replay of the same signed request (409), from the shared database", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    expect((await verify(headers)).ok).to.equal(true);
    const replay = await verify(headers);
    expect(replay).to.deep.include({ ok: false, status: 409, code: "replayed" });
    // Another instance with its own store object over the same database refuses it too.
    const elsewhere = await verifySignedRequest(new Headers(headers), { action: "backup", creator: creator.address, nonces: new SqlNonceStore(db) });
    expect(elsewhere).to.deep.include({ ok: false, code: "replayed" });
  });

  it("two racing uses of one signature: exactly one is accepted", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    const results = await Promise.all(Array.from({ length: 8 }, () => verify(headers)));
    expect(results.filter((r) => r.ok)).to.have.length(1);
    expect(results.filter((r) => !r.ok && r.code === "replayed")).to.have.length(7);
  });

  it("a captured signature cannot carry another body", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    const claim = (await verify(headers)) as SignedRequestClaim;
    expect(await bodyMatchesClaim(claim, new TextEncoder().encode(JSON.stringify({ trigger: "quarterly" })))).to.equal(false);
  });

  it("refuses another wallet's signature, another action, an old time, a forged message, and no headers", async () => {
    // Signed by another wallet but naming the creator: the signature does not match.
    const forged = await signRequest("backup", creator.address, body, sign(other));
    expect(await verify(forged)).to.deep.include({ ok: false, status: 401, code: "bad_signature" });
    // The other wallet's own request, sent to the creator's path.
    expect(await verify(await signRequest("backup", other.address, body, sign(other)))).to.deep.include({ ok: false, status: 403, code: "wrong_wallet" });
    expect(await verify(await signRequest("upload", creator.address, body, sign()))).to.deep.include({ ok: false, status: 403, code: "wrong_action" });
    const old = await signRequest("backup", creator.address, body, sign(), () => Date.now() - 11 * 60_000);
    expect(await verify(old)).to.deep.include({ ok: false, status: 401, code: "expired" });
    expect(await verify({ [MESSAGE_HEADER]: "not base64!", [SIGNATURE_HEADER]: "0x00" })).to.deep.include({ ok: false, status: 400, code: "malformed_signed_request" });
    const unsigned = await verify({});
    expect(unsigned).to.deep.include({ ok: false, status: 401, code: "unsigned" });
    expect((unsigned as { message: string }).message).to.contain(MESSAGE_HEADER);
  });

  it("a request the gate refuses (not a launched creator) does not burn its nonce", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    const denied = await verify(headers, { authorize: async () => "launch as a creator before you backup" });
    expect(denied).to.deep.include({ ok: false, status: 403, code: "not_authorized", message: "launch as a creator before you backup" });
    expect((await verify(headers)).ok).to.equal(true);
  });

  it("the message names the action, wallet, body digest, nonce and time", () => {
    const message = signedRequestMessage({ action: "backup", wallet: creator.address, bodySha256: "ab".repeat(32), nonce: "cd".repeat(16), time: "2026-12-03T08:00:00.000Z" });
    expect(message).to.equal(`StreamVault backup\nWallet: ${creator.address}\nBody: sha256:${"ab".repeat(32)}\nNonce: ${"cd".repeat(16)}\nTime: 2026-12-03T08:00:00.000Z`);
  });
});

/**
 * Single-use, body-bound signed requests (lib/signed-request, as backups send them) with used nonces
 * in a real database (PGlite, the key-release schema): a replay is refused, also from another ledger
 * over the same database and when several requests race; a signature cannot carry another body,
 * wallet, action or time.
 */
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { openKeyReleaseDb, type SqlClient } from "@streamvault/lib/keyrelease/db.ts";
import {
  claimSignedBody,
  sha256Hex,
  signedRequestFromHeaders,
  signedRequestMessage,
  signRequest,
  SIGNATURE_HEADER,
  SIGNED_REQUEST_HEADER,
  sqlNonceLedger,
  verifySignedRequest,
  type NonceLedger,
  type SignedRequestFields,
} from "@streamvault/lib/signed-request/index.ts";

describe("signed creator requests: single use, bound to the body", function () {
  this.timeout(60_000);
  let db: SqlClient;
  let ledger: NonceLedger;
  const creator = privateKeyToAccount(generatePrivateKey());
  const other = privateKeyToAccount(generatePrivateKey());
  const sign = (account = creator) => (args: { message: string }) => account.signMessage(args);
  const body = JSON.stringify({ trigger: "manual" });

  before(async () => {
    db = await openKeyReleaseDb({ pgliteWorker: false });
    ledger = await sqlNonceLedger(db);
  });
  after(async () => db?.close());

  const verify = (headers: Record<string, string>, action = "backup") => verifySignedRequest({ ...signedRequestFromHeaders(new Headers(headers)), action, wallet: creator.address });
  async function fieldsOf(headers: Record<string, string>): Promise<SignedRequestFields> {
    const verified = await verify(headers);
    if (!verified.ok) throw new Error(verified.reason);
    return verified.fields;
  }
  const claim = async (headers: Record<string, string>, on = ledger) => {
    const fields = await fieldsOf(headers);
    return claimSignedBody(on, fields, fields.bodies[0]);
  };

  it("accepts the creator's signed request once, naming the size and SHA-256 of the body it was signed for", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    const fields = await fieldsOf(headers);
    expect(fields.bodies).to.deep.equal([{ size: Buffer.byteLength(body), sha256: await sha256Hex(body) }]);
    expect(await claimSignedBody(ledger, fields, fields.bodies[0])).to.equal(true);
  });

  it("refuses a replay of the same signed request, also from another ledger over the same database", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    expect(await claim(headers)).to.equal(true);
    expect(await claim(headers)).to.equal(false);
    expect(await claim(headers, await sqlNonceLedger(db))).to.equal(false);
  });

  it("eight racing uses of one signature: exactly one is accepted", async () => {
    const headers = await signRequest("backup", creator.address, body, sign());
    const fields = await fieldsOf(headers);
    const results = await Promise.all(Array.from({ length: 8 }, () => claimSignedBody(ledger, fields, fields.bodies[0])));
    expect(results.filter(Boolean)).to.have.length(1);
  });

  it("a captured signature cannot carry another body: the digest it names is not the other body's", async () => {
    const fields = await fieldsOf(await signRequest("backup", creator.address, body, sign()));
    expect(fields.bodies[0]!.sha256).to.not.equal(await sha256Hex(JSON.stringify({ trigger: "quarterly" })));
  });

  it("refuses another wallet's signature, another action, an old time, a malformed message, and no headers", async () => {
    // Signed by another wallet but naming the creator: the signature does not match.
    const forgedMessage = signedRequestMessage({ action: "backup", wallet: creator.address, nonce: `0x${"ab".repeat(16)}`, time: new Date().toISOString(), bodies: [] });
    const forged = await verify({ [SIGNED_REQUEST_HEADER]: btoa(forgedMessage), [SIGNATURE_HEADER]: await other.signMessage({ message: forgedMessage }) });
    expect(forged).to.deep.include({ ok: false, status: 403 });
    expect((forged as { reason: string }).reason).to.match(/does not match the wallet/);
    // The other wallet's own request, sent for the creator.
    const wrongWallet = await verify(await signRequest("backup", other.address, body, sign(other)));
    expect((wrongWallet as { reason: string }).reason).to.match(/another wallet/);
    const wrongAction = await verify(await signRequest("upload", creator.address, body, sign()));
    expect((wrongAction as { reason: string }).reason).to.match(/is for "upload", not "backup"/);
    const old = await verify(await signRequest("backup", creator.address, body, sign(), () => Date.now() - 11 * 60_000));
    expect((old as { reason: string }).reason).to.match(/too old: sign again/);
    const malformed = await verify({ [SIGNED_REQUEST_HEADER]: btoa("StreamVault backup\nnot a signed request"), [SIGNATURE_HEADER]: "0x00" });
    expect(malformed.ok).to.equal(false);
    const unsigned = await verify({});
    expect(unsigned).to.deep.include({ ok: false, status: 403 });
    expect((unsigned as { reason: string }).reason).to.match(/sign the backup request with your wallet/);
  });

  it("the message names the action, wallet, nonce, time and each body", () => {
    const message = signedRequestMessage({ action: "backup", wallet: creator.address, nonce: `0x${"cd".repeat(16)}`, time: "2026-12-03T08:00:00.000Z", bodies: [{ size: 21, sha256: "ab".repeat(32) }] });
    expect(message).to.equal(`StreamVault backup\nWallet: ${creator.address}\nNonce: 0x${"cd".repeat(16)}\nTime: 2026-12-03T08:00:00.000Z\nBody: 21 ${"ab".repeat(32)}`);
  });
});

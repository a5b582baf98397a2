/**
 * The optional Lit gate, against a mock Lit client (the SDK is not installed here: it pins viem
 * 2.38.3 as a peer). The mock is faithful where it matters: it evaluates the condition it is given
 * by calling the real contract on anvil with `:userAddress` replaced by the auth context's wallet,
 * and refuses to decrypt with conditions other than those the data was encrypted under.
 */
import { expect } from "chai";
import { getAddress, type Address, type Hex } from "viem";
import { contractOf } from "../../lib/deployments/index.ts";
import {
  hasValidAccessCondition,
  LIT_PROBE,
  LitAccessGate,
  LitKeyEscrow,
  LitUnavailableError,
  loadLitSdk,
  type EvmContractCondition,
  type LitClientLike,
  type LitSealed,
} from "../../lib/keyrelease/lit.ts";
import { startKeyReleaseServer, type KeyReleaseServer } from "../../lib/keyrelease/server.ts";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "../../lib/keyrelease/wrap.ts";
import { SIWE_DOMAIN, SIWE_URI, signIn, startChainFixture, type ChainFixture } from "./fixture.ts";

class MockLit implements LitClientLike {
  readonly #f: ChainFixture;
  readonly #store = new Map<string, { data: Uint8Array; conditions: string }>();
  failWith: Error | undefined;
  decryptCalls = 0;
  constructor(f: ChainFixture) {
    this.#f = f;
  }
  async encrypt(params: { dataToEncrypt: Uint8Array | string; unifiedAccessControlConditions: EvmContractCondition[]; chain: string }) {
    const id = `ct-${this.#store.size}`;
    const data = typeof params.dataToEncrypt === "string" ? new TextEncoder().encode(params.dataToEncrypt) : new Uint8Array(params.dataToEncrypt);
    this.#store.set(id, { data, conditions: JSON.stringify(params.unifiedAccessControlConditions) });
    return { ciphertext: id, dataToEncryptHash: `hash-${id}` };
  }
  async decrypt(params: { ciphertext: string; dataToEncryptHash: string; unifiedAccessControlConditions: EvmContractCondition[]; authContext: unknown; chain: string }) {
    this.decryptCalls++;
    if (this.failWith) throw this.failWith;
    const entry = this.#store.get(params.ciphertext);
    if (!entry || JSON.stringify(params.unifiedAccessControlConditions) !== entry.conditions) throw new Error("NodeAccessControlConditionsReturnedNotAuthorized: conditions differ");
    const user = (params.authContext as { address: Address }).address;
    for (const c of params.unifiedAccessControlConditions) {
      const args = c.functionParams.map((p) => (p === ":userAddress" ? user : p));
      const result = await this.#f.publicClient.readContract({ address: c.contractAddress as Address, abi: [c.functionAbi], functionName: c.functionName, args } as never);
      if (String(result) !== c.returnValueTest.value) throw new Error("NodeAccessControlConditionsReturnedNotAuthorized: access control conditions check failed");
    }
    return { decryptedData: entry.data };
  }
}

describe("Lit Protocol gate (optional backend, mock client)", function () {
  this.timeout(60_000);
  let f: ChainFixture;
  let lit: MockLit;
  let item: { contentId: Hex; key: Uint8Array };
  let contentAccess: Address;

  before(async () => {
    f = await startChainFixture();
    lit = new MockLit(f);
    item = await f.registerItem("lit-item");
    contentAccess = contractOf(f.deployment, "ContentAccess").address;
  });
  after(async () => f?.stop());

  it("loads the SDK lazily and explains how to install it when it is missing (it is not installed here)", async () => {
    const error = await loadLitSdk().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(LitUnavailableError);
    expect(String((error as Error).message)).to.match(/@lit-protocol\/lit-client.*viem 2\.38\.3/);
    const imported: string[] = [];
    const fakeClient = lit;
    const sdk = await loadLitSdk(async (name) => {
      imported.push(name);
      return name.endsWith("lit-client") ? { createLitClient: async () => fakeClient } : { nagaDev: { name: "naga-dev" } };
    });
    expect(imported).to.deep.equal(["@lit-protocol/lit-client", "@lit-protocol/networks"]);
    let usedNetwork: unknown;
    const escrow = new LitKeyEscrow({ contentAccess, litChain: "anvil", loadSdk: async () => ({ ...sdk, createLitClient: async (o) => ((usedNetwork = o.network), fakeClient) }) });
    await escrow.seal(item.contentId, item.key);
    expect(usedNetwork).to.deep.equal({ name: "naga-dev" });
    const unknownNetwork = new LitKeyEscrow({ contentAccess, litChain: "anvil", network: "nope", loadSdk: async () => sdk });
    expect(await unknownNetwork.seal(item.contentId, item.key).then(() => "sealed", (e: Error) => e.message)).to.match(/unknown Lit network "nope"/);
  });

  it("builds the hasValidAccess(:userAddress, contentId) == true condition", () => {
    const c = hasValidAccessCondition(contentAccess, item.contentId, "filecoin");
    expect(c).to.deep.include({ conditionType: "evmContract", contractAddress: contentAccess, functionName: "hasValidAccess", chain: "filecoin" });
    expect(c.functionParams).to.deep.equal([":userAddress", item.contentId.toLowerCase()]);
    expect(c.returnValueTest).to.deep.equal({ key: "", comparator: "=", value: "true" });
    expect(c.functionAbi.inputs.map((i) => i.type)).to.deep.equal(["address", "bytes32"]);
    expect(() => hasValidAccessCondition(contentAccess, "0x12" as Hex, "filecoin")).to.throw(RangeError);
  });

  it("escrows a content key: the creator opens it, a stranger is refused, altered conditions are refused", async () => {
    const escrow = new LitKeyEscrow({ contentAccess, litChain: "anvil", client: lit });
    const sealed = await escrow.seal(item.contentId, item.key);
    const opened = await escrow.open(sealed, { address: f.creator.address });
    expect(Buffer.from(opened).equals(Buffer.from(item.key))).to.equal(true);
    const stranger = await f.newAccount();
    const refused = await escrow.open(sealed, { address: stranger.address }).then(() => "opened", (e: Error) => e.message);
    expect(refused).to.match(/conditions check failed/);
    const loosened: LitSealed = { ...sealed, conditions: [{ ...sealed.conditions[0]!, returnValueTest: { key: "", comparator: "=", value: "false" } }] };
    expect(await escrow.open(loosened, { address: stranger.address }).then(() => "opened", (e: Error) => e.message)).to.match(/unexpected access conditions/);
  });

  describe("as the key-release service's AccessGate", () => {
    let srv: KeyReleaseServer;
    let probe: LitSealed;
    before(async () => {
      probe = await new LitKeyEscrow({ contentAccess, litChain: "anvil", client: lit }).seal(item.contentId, LIT_PROBE);
      const gate = new LitAccessGate({
        contentAccess,
        litChain: "anvil",
        client: lit,
        // In production the browser hands over its Lit auth context; the mock only needs the wallet.
        authContextFor: async (wallet) => ({ address: getAddress(wallet) }),
        probeFor: async (contentId) => (contentId.toLowerCase() === item.contentId.toLowerCase() ? probe : undefined),
      });
      srv = await startKeyReleaseServer({
        port: 0,
        publicClient: f.publicClient,
        deployment: f.deployment,
        keyStore: f.keyStore,
        siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI },
        gate,
        logger: { info() {}, warn() {}, error() {} },
      });
    });
    after(async () => srv?.close());

    async function release(cookie: string) {
      const client = await generateEphemeralKeyPair();
      const res = await fetch(`${srv.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) });
      return { status: res.status, body: (await res.json()) as { wrapped: WrappedKey; wallet: string; access: { reason: string }; message: string; error: string }, privateKey: client.privateKey };
    }

    it("releases to a wallet the Lit nodes approve (reason lit-condition), refuses others, and maps Lit outages to 503", async () => {
      const ok = await release(await signIn(srv.url, f.creator));
      expect(ok.status).to.equal(200);
      expect(ok.body.access.reason).to.equal("lit-condition");
      const key = await unwrapContentKey({ privateKey: ok.privateKey, wrapped: ok.body.wrapped, contentId: item.contentId, wallet: ok.body.wallet });
      expect(Buffer.from(key).equals(Buffer.from(item.key))).to.equal(true);

      const strangerCookie = await signIn(srv.url, await f.newAccount());
      const denied = await release(strangerCookie);
      expect(denied.status).to.equal(403);
      expect(denied.body.message).to.equal("no access (Lit network): buy a pass or subscribe");

      lit.failWith = new Error("request to Lit nodes timed out");
      try {
        const down = await release(strangerCookie);
        expect(down.status).to.equal(503);
        expect(down.body.error).to.equal("access_unavailable");
        expect(down.body.message).to.equal("the lit access backend did not answer: try again shortly");
      } finally {
        lit.failWith = undefined;
      }
      const audit = (await srv.service.db.query<{ outcome: string; reason: string; detail: unknown }>("SELECT outcome, reason, detail FROM audit_log WHERE event = 'release' ORDER BY id")).rows;
      expect(audit.map((r) => `${r.outcome}:${r.reason}`)).to.deep.equal(["allowed:lit-condition", "denied:no_access", "denied:access_unavailable"]);
      expect(JSON.stringify(audit[0]!.detail)).to.contain('"gate":"lit"');
    });
  });
});

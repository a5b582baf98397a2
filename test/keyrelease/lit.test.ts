/**
 * The optional Lit gate. No test talks to the Lit network: the escrow and gate run against mocks,
 * at two levels -- a {@link LitClientLike} mock, and mocks of the SDK's own client built from the
 * SDK's types (`LitSdkClient`, `LitEncryptRequest`, `LitAuthContext`, ...) behind the real
 * {@link LitSdkClientAdapter}. The mocks are faithful where it matters: they evaluate the condition
 * they are given by calling the real contract on anvil with `:userAddress` replaced by the auth
 * context's wallet, and refuse to decrypt with conditions other than those the data was encrypted
 * under. The installed SDK itself is loaded (offline) to check its schema accepts our condition.
 */
import { expect } from "chai";
import { getAddress, type Address, type Hex } from "viem";
import { contractOf } from "@streamvault/lib/deployments";
import {
  hasValidAccessCondition,
  isLitAccessDenied,
  LIT_PROBE,
  LitAccessGate,
  LitKeyEscrow,
  LitSdkClientAdapter,
  litConfigFromEnv,
  litEscrowFromEnv,
  loadLitSdk,
  type EvmContractCondition,
  type LitAuthContext,
  type LitChainName,
  type LitClientLike,
  type LitDecryptRequest,
  type LitDecryptResponse,
  type LitEncryptRequest,
  type LitEncryptResponse,
  type LitNetworkModule,
  type LitSdk,
  type LitSdkClient,
  type LitSealed,
  type LitUnifiedCondition,
} from "@streamvault/lib/keyrelease/lit.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { signIn, startChainFixture, type ChainFixture, startFixtureServer } from "./fixture.ts";

class MockLit implements LitClientLike {
  readonly #f: ChainFixture;
  readonly #store = new Map<string, { data: Uint8Array; conditions: string }>();
  failWith: Error | undefined;
  decryptCalls = 0;
  constructor(f: ChainFixture) {
    this.#f = f;
  }
  async encrypt(params: { dataToEncrypt: Uint8Array | string; unifiedAccessControlConditions: EvmContractCondition[]; chain: LitChainName }) {
    const id = `ct-${this.#store.size}`;
    const data = typeof params.dataToEncrypt === "string" ? new TextEncoder().encode(params.dataToEncrypt) : new Uint8Array(params.dataToEncrypt);
    this.#store.set(id, { data, conditions: JSON.stringify(params.unifiedAccessControlConditions) });
    return { ciphertext: id, dataToEncryptHash: `hash-${id}` };
  }
  async decrypt(params: { ciphertext: string; dataToEncryptHash: string; unifiedAccessControlConditions: EvmContractCondition[]; authContext: unknown; chain: LitChainName }) {
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

/** Lit's name of the chain the conditions name; the mocks evaluate them on anvil whatever the name. */
const CHAIN: LitChainName = "filecoinCalibrationTestnet";

/** Reads `:userAddress` replaced by `user` through the real contract on anvil, as a Lit node would on its chain. */
async function conditionsHold(f: ChainFixture, conditions: readonly (EvmContractCondition | LitUnifiedCondition)[], user: Address): Promise<boolean> {
  for (const c of conditions as EvmContractCondition[]) {
    const args = c.functionParams.map((p) => (p === ":userAddress" ? user : p));
    const result = await f.publicClient.readContract({ address: c.contractAddress as Address, abi: [c.functionAbi], functionName: c.functionName, args } as never);
    if (String(result) !== c.returnValueTest.value) return false;
  }
  return true;
}

/**
 * A Lit auth context of the SDK's type (what `createAuthManager(...).createEoaAuthContext(...)` makes in
 * the browser); the mock SDK client knows which wallet each session key belongs to.
 */
function authContextOf(sessionKeys: Map<string, Address>, wallet: Address): LitAuthContext {
  const publicKey = `pk-${sessionKeys.size}-${wallet.toLowerCase()}`;
  sessionKeys.set(publicKey, getAddress(wallet));
  return {
    chain: CHAIN,
    sessionKeyPair: { publicKey, secretKey: "00".repeat(32) },
    authNeededCallback: async () => ({}),
    authConfig: { capabilityAuthSigs: [], expiration: new Date(Date.now() + 600_000).toISOString(), statement: "StreamVault", domain: "localhost", resources: [] },
  };
}

/** A mock of the SDK's own client (`LitSdkClient` = the SDK's LitClient narrowed to encrypt/decrypt/disconnect), typed by the SDK. */
class MockSdkClient implements LitSdkClient {
  readonly #f: ChainFixture;
  readonly #store = new Map<string, { data: Uint8Array; conditions: string }>();
  readonly sessionKeys = new Map<string, Address>();
  readonly encrypted: LitEncryptRequest[] = [];
  readonly decrypted: LitDecryptRequest[] = [];
  disconnected = false;
  failWith: Error | undefined;
  constructor(f: ChainFixture) {
    this.#f = f;
  }
  encrypt = async (params: LitEncryptRequest): Promise<LitEncryptResponse> => {
    this.encrypted.push(params);
    const id = `sdk-ct-${this.#store.size}`;
    const data = typeof params.dataToEncrypt === "string" ? new TextEncoder().encode(params.dataToEncrypt) : new Uint8Array(params.dataToEncrypt as Uint8Array);
    this.#store.set(id, { data, conditions: JSON.stringify(params.unifiedAccessControlConditions) });
    return { ciphertext: id, dataToEncryptHash: `hash-${id}` };
  };
  decrypt = async (params: LitDecryptRequest): Promise<LitDecryptResponse> => {
    this.decrypted.push(params);
    if (this.failWith) throw this.failWith;
    if (!("ciphertext" in params)) throw new Error("this mock takes the { ciphertext, dataToEncryptHash } form");
    const entry = this.#store.get(params.ciphertext);
    const user = this.sessionKeys.get(params.authContext.sessionKeyPair.publicKey);
    const denied = Object.assign(new Error("decryption refused"), { name: "UnauthorizedException", meta: { code: "NodeNotAuthorized", kind: "Validation" } });
    if (!entry || user === undefined || JSON.stringify(params.unifiedAccessControlConditions) !== entry.conditions) throw denied;
    if (!(await conditionsHold(this.#f, params.unifiedAccessControlConditions ?? [], user))) throw denied;
    return { decryptedData: entry.data };
  };
  disconnect = (): void => {
    this.disconnected = true;
  };
}

describe("Lit Protocol gate (optional backend; the Lit network mocked)", function () {
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

  it("loads the installed SDK v8 (offline): client factory, network modules, and its schema accepts the hasValidAccess condition", async function () {
    this.timeout(60_000);
    const sdk = await loadLitSdk();
    expect(typeof sdk.createLitClient).to.equal("function");
    expect(Object.keys(sdk.networks)).to.include.members(["naga", "nagaDev"]);
    expect(sdk.networks.nagaDev!.getNetworkName()).to.equal("naga-dev");
    expect(await sdk.validateConditions([hasValidAccessCondition(contentAccess, item.contentId, "filecoinCalibrationTestnet")])).to.equal(true);
    const broken = { ...hasValidAccessCondition(contentAccess, item.contentId, "filecoin"), chain: "no-such-chain" } as unknown as LitUnifiedCondition;
    expect(await sdk.validateConditions([broken]).then(() => "accepted", () => "refused")).to.equal("refused");
  });

  it("creates the client on the configured network through the SDK adapter, and names an unknown network", async () => {
    let usedNetwork: LitNetworkModule | undefined;
    const nagaDev = { id: "naga-dev-mock" } as unknown as LitNetworkModule;
    const sdkClient = new MockSdkClient(f);
    const sdk: LitSdk = {
      createLitClient: async ({ network }) => ((usedNetwork = network), sdkClient),
      networks: { nagaDev },
      validateConditions: async () => true,
    };
    const escrow = new LitKeyEscrow({ contentAccess, litChain: CHAIN, loadSdk: async () => sdk });
    await escrow.seal(item.contentId, item.key);
    expect(usedNetwork).to.equal(nagaDev);
    expect(sdkClient.encrypted).to.have.length(1);
    await escrow.close();
    expect(sdkClient.disconnected).to.equal(true);
    const unknownNetwork = new LitKeyEscrow({ contentAccess, litChain: CHAIN, network: "nope", loadSdk: async () => sdk });
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
    const escrow = new LitKeyEscrow({ contentAccess, litChain: CHAIN, client: lit });
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
      probe = await new LitKeyEscrow({ contentAccess, litChain: CHAIN, client: lit }).seal(item.contentId, LIT_PROBE);
      const gate = new LitAccessGate({
        contentAccess,
        litChain: CHAIN,
        client: lit,
        // In production the browser hands over its Lit auth context; the mock only needs the wallet.
        authContextFor: async (wallet) => ({ address: getAddress(wallet) }),
        probeFor: async (contentId) => (contentId.toLowerCase() === item.contentId.toLowerCase() ? probe : undefined),
      });
      srv = await startFixtureServer(f, {
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

  describe("LitSdkClientAdapter over the SDK client's types (mock SDK client, no network)", () => {
    it("passes the SDK the validated condition, a copy of the key bytes and the chain, and opens it only with an SDK auth context", async () => {
      const sdkClient = new MockSdkClient(f);
      const validated: unknown[] = [];
      const adapter = new LitSdkClientAdapter(sdkClient, async (conditions) => (validated.push(conditions), true));
      const escrow = new LitKeyEscrow({ contentAccess, litChain: CHAIN, client: adapter });
      const backing = new Uint8Array(64).fill(7);
      backing.set(item.key, 16);
      const sealed = await escrow.seal(item.contentId, backing.subarray(16, 16 + item.key.length));
      const request = sdkClient.encrypted[0]!;
      expect(request.chain).to.equal(CHAIN);
      expect(request.unifiedAccessControlConditions).to.deep.equal([hasValidAccessCondition(contentAccess, item.contentId, CHAIN)]);
      expect((request.dataToEncrypt as Uint8Array).buffer.byteLength).to.equal(item.key.length); // not the 64-byte backing buffer
      expect(validated).to.have.length(1);

      const opened = await escrow.open(sealed, authContextOf(sdkClient.sessionKeys, f.creator.address));
      expect(Buffer.from(opened).equals(Buffer.from(item.key))).to.equal(true);
      const decryptRequest = sdkClient.decrypted[0]!;
      expect("ciphertext" in decryptRequest && decryptRequest.ciphertext).to.equal(sealed.ciphertext);
      expect(decryptRequest.chain).to.equal(CHAIN);

      const stranger = await f.newAccount();
      const refused = await escrow.open(sealed, authContextOf(sdkClient.sessionKeys, stranger.address)).then(() => undefined, (e: unknown) => e);
      expect(isLitAccessDenied(refused)).to.equal(true);
      // Something that is not an SDK auth context never reaches the SDK.
      const before = sdkClient.decrypted.length;
      expect(await escrow.open(sealed, { address: f.creator.address }).then(() => "opened", (e: Error) => e.message)).to.match(/not a Lit auth context/);
      expect(sdkClient.decrypted.length).to.equal(before);
    });

    it("stops before the SDK when the SDK's condition schema refuses the condition", async () => {
      const sdkClient = new MockSdkClient(f);
      const adapter = new LitSdkClientAdapter(sdkClient, async () => {
        throw new Error("InvalidAccessControlConditions: bad chain");
      });
      const escrow = new LitKeyEscrow({ contentAccess, litChain: CHAIN, client: adapter });
      expect(await escrow.seal(item.contentId, item.key).then(() => "sealed", (e: Error) => e.message)).to.match(/InvalidAccessControlConditions/);
      expect(sdkClient.encrypted).to.have.length(0);
    });

    it("gates key release through the adapter: SDK 'not authorized' errors are denials, other SDK errors are outages", async () => {
      const sdkClient = new MockSdkClient(f);
      const adapter = new LitSdkClientAdapter(sdkClient, async () => true);
      const probe = await new LitKeyEscrow({ contentAccess, litChain: CHAIN, client: adapter }).seal(item.contentId, LIT_PROBE);
      const gate = new LitAccessGate({
        contentAccess,
        litChain: CHAIN,
        client: adapter,
        authContextFor: async (wallet) => authContextOf(sdkClient.sessionKeys, wallet),
        probeFor: async (contentId) => (contentId.toLowerCase() === item.contentId.toLowerCase() ? probe : undefined),
      });
      expect(await gate.check(f.creator.address, item.contentId)).to.deep.equal({ granted: true, reason: "lit-condition", expiresAt: null });
      const stranger = await f.newAccount();
      expect(await gate.check(stranger.address, item.contentId)).to.include({ granted: false, denial: "no access (Lit network): buy a pass or subscribe" });
      const other = "0x" + "ab".repeat(32);
      expect(await gate.check(f.creator.address, other as Hex)).to.include({ granted: false, unknownContent: true });
      sdkClient.failWith = Object.assign(new Error("handshake failed"), { name: "LitNetworkError", meta: { code: "NetworkError", kind: "Unknown" } });
      expect(await gate.check(f.creator.address, item.contentId).then(() => "answered", (e: Error) => e.message)).to.equal("handshake failed");
    });
  });

  describe("configuration: Lit only with LIT_NETWORK and a public chain Lit reads", () => {
    it("keeps the embedded gate (and never loads the SDK) without LIT_NETWORK or on a local chain", async () => {
      let loads = 0;
      const loadSdk = async (): Promise<LitSdk> => {
        loads++;
        throw new Error("must not load");
      };
      expect(litEscrowFromEnv({ env: {}, chainId: 314159, contentAccess, loadSdk })).to.deep.equal({ escrow: undefined, why: "LIT_NETWORK is not set" });
      const local = litEscrowFromEnv({ env: { LIT_NETWORK: "nagaDev", LIT_CHAIN: "filecoin" }, chainId: 31337, contentAccess, loadSdk });
      expect(local.escrow).to.equal(undefined);
      expect("why" in local && local.why).to.match(/local chain/);
      const unknownChain = litConfigFromEnv({ LIT_NETWORK: "nagaDev" }, 424242);
      expect(unknownChain).to.deep.include({ enabled: false });
      expect("why" in unknownChain && unknownChain.why).to.match(/set LIT_CHAIN/);
      expect(() => litConfigFromEnv({ LIT_NETWORK: "mainnet-please" }, 314)).to.throw(/not a Lit network/);
      expect(loads).to.equal(0);
    });

    it("turns Lit on for a public chain, names Lit's chain, and loads the SDK once, on first use", async () => {
      expect(litConfigFromEnv({ LIT_NETWORK: "naga" }, 314)).to.deep.equal({ enabled: true, network: "naga", litChain: "filecoin" });
      expect(litConfigFromEnv({ LIT_NETWORK: "nagaDev", LIT_CHAIN: "baseSepolia" }, 424242)).to.deep.equal({ enabled: true, network: "nagaDev", litChain: "baseSepolia" });
      const sdkClient = new MockSdkClient(f);
      let loads = 0;
      const nagaDev = { id: "naga-dev-mock" } as unknown as LitNetworkModule;
      const loadSdk = async (): Promise<LitSdk> => {
        loads++;
        return { createLitClient: async () => sdkClient, networks: { nagaDev }, validateConditions: async () => true };
      };
      const lit = litEscrowFromEnv({ env: { LIT_NETWORK: "nagaDev" }, chainId: 314159, contentAccess, loadSdk });
      expect(lit.escrow).to.be.instanceOf(LitKeyEscrow);
      expect("litChain" in lit && lit.litChain).to.equal("filecoinCalibrationTestnet");
      expect(loads).to.equal(0);
      await lit.escrow!.seal(item.contentId, item.key);
      await lit.escrow!.seal(item.contentId, LIT_PROBE);
      expect(loads).to.equal(1);
      expect(sdkClient.encrypted.map((r) => r.chain)).to.deep.equal(["filecoinCalibrationTestnet", "filecoinCalibrationTestnet"]);
    });
  });
});

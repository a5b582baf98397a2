/**
 * Lit Protocol as an optional access backend (the embedded chain gate stays the default, and is
 * the only one that works offline).
 *
 * The Lit SDK v8 (`@lit-protocol/lit-client`, `@lit-protocol/networks`, `@lit-protocol/auth`,
 * `@lit-protocol/access-control-conditions`) is installed at the root. Its packages pin viem 2.38.3
 * as an exact peer; the root package.json `overrides` hand them the root viem instead (one viem in
 * the tree), so they install without --legacy-peer-deps and without moving the root viem.
 *
 * - Types come from the SDK itself (`import type`, erased at run time): {@link LitSdkClient} is the
 *   SDK's `LitClient` narrowed to what is used here, {@link LitAuthContext} the `authContext` its
 *   `decrypt` takes, {@link LitUnifiedCondition} its unified access control condition.
 * - The SDK is loaded lazily ({@link loadLitSdk}, `await import(...)`) and only when Lit is configured:
 *   {@link litConfigFromEnv} enables it only for `LIT_NETWORK` together with a public chain Lit reads
 *   (`LIT_CHAIN`, or the deployment's chain id when Lit knows it); a local chain (anvil) never loads it.
 * - {@link LitSdkClientAdapter} puts a real SDK client behind {@link LitClientLike}, the interface
 *   {@link LitKeyEscrow} and {@link LitAccessGate} use (tests inject mocks of either level).
 *
 * Model: the condition is `ContentAccess.hasValidAccess(:userAddress, contentId) == true`, evaluated
 * by the Lit nodes on the chain. {@link LitKeyEscrow} encrypts a content key under it (a decentralised
 * copy the browser can decrypt with Lit directly, without this server); {@link LitAccessGate} is an
 * {@link AccessGate} that asks Lit to decrypt a per-item probe under that condition with the wallet's
 * Lit auth context: decryption succeeds exactly when the nodes agree the wallet has access.
 */
import type { Address, Hex } from "viem";
import type * as LitAccsModule from "@lit-protocol/access-control-conditions";
import type * as LitAuthModule from "@lit-protocol/auth";
import type * as LitClientModule from "@lit-protocol/lit-client";
import type * as LitNetworksModule from "@lit-protocol/networks";
import type { AccessDecision, AccessGate } from "./gate.ts";
import { StreamVaultError } from "../errors.ts";

/** A unified access control condition of type "evmContract" (Lit's JSON shape). */
export interface EvmContractCondition {
  conditionType: "evmContract";
  contractAddress: string;
  functionName: string;
  functionParams: string[];
  functionAbi: {
    type: "function";
    name: string;
    stateMutability: "view";
    inputs: { name: string; type: string; internalType: string }[];
    outputs: { name: string; type: string; internalType: string }[];
  };
  /** Lit's name of the chain the nodes read (the SDK's own list, e.g. "filecoin", "filecoinCalibrationTestnet"). */
  chain: LitChainName;
  returnValueTest: { key: string; comparator: "="; value: string };
}

// ------------------------------------------------------------------ the SDK's own types

/** The SDK's client (`createLitClient(...)` resolves to it). */
export type LitClient = LitClientModule.LitClient;
/** What this module calls on a real client: the SDK's own signatures. */
export type LitSdkClient = Pick<LitClient, "encrypt" | "decrypt" | "disconnect">;
/** `LitClient.encrypt` parameters and result. */
export type LitEncryptRequest = Parameters<LitClient["encrypt"]>[0];
export type LitEncryptResponse = Awaited<ReturnType<LitClient["encrypt"]>>;
/** `LitClient.decrypt` parameters (either form) and result. */
export type LitDecryptRequest = Parameters<LitClient["decrypt"]>[0];
export type LitDecryptResponse = Awaited<ReturnType<LitClient["decrypt"]>>;
/** The wallet's Lit auth context `decrypt` takes (e.g. `createAuthManager(...).createEoaAuthContext(...)` in the browser). */
export type LitAuthContext = LitDecryptRequest["authContext"];
/** One entry of `unifiedAccessControlConditions` as the SDK types it. */
export type LitUnifiedCondition = NonNullable<LitEncryptRequest["unifiedAccessControlConditions"]>[number];
/** Lit's evmContract condition and its chain names (LIT_CHAINS of @lit-protocol/constants). */
export type LitEvmContractCondition = Extract<LitUnifiedCondition, { functionAbi: unknown }>;
export type LitChainName = LitEvmContractCondition["chain"];
/** The network module `createLitClient` takes (`nagaDev`, `naga`, ... from @lit-protocol/networks). */
export type LitNetworkModule = Parameters<typeof LitClientModule.createLitClient>[0]["network"];

/** Network modules exported by @lit-protocol/networks that createLitClient accepts. */
export const LIT_NETWORKS = ["naga", "nagaDev", "nagaTest", "nagaStaging", "nagaProto", "nagaMainnet", "nagaLocal"] as const satisfies readonly (keyof typeof LitNetworksModule)[];
export type LitNetworkName = (typeof LIT_NETWORKS)[number];

// Compile-time checks against the SDK's types: the condition built here is one of Lit's unified
// conditions, the auth context the SDK's auth manager makes is one decrypt takes, and the network
// modules and client factory of the installed SDK fit what this module declares.
type EoaAuthContext = Awaited<ReturnType<ReturnType<typeof LitAuthModule.createAuthManager>["createEoaAuthContext"]>>;
type Holds<T extends true> = T;
export type LitSdkTypeChecks = [
  Holds<EvmContractCondition extends LitUnifiedCondition ? true : false>,
  Holds<EoaAuthContext extends LitAuthContext ? true : false>,
  Holds<(typeof LitNetworksModule)[LitNetworkName] extends LitNetworkModule ? true : false>,
  Holds<typeof LitClientModule.createLitClient extends LitSdk["createLitClient"] ? true : false>,
  Holds<typeof LitAccsModule.validateUnifiedAccessControlConditionsSchema extends LitSdk["validateConditions"] ? true : false>,
];

/** The parts of a Lit client {@link LitKeyEscrow} uses; {@link LitSdkClientAdapter} provides them over the real SDK. */
export interface LitClientLike {
  encrypt(params: { dataToEncrypt: Uint8Array | string; unifiedAccessControlConditions: EvmContractCondition[]; chain: LitChainName }): Promise<{ ciphertext: string; dataToEncryptHash: string }>;
  decrypt(params: {
    ciphertext: string;
    dataToEncryptHash: string;
    unifiedAccessControlConditions: EvmContractCondition[];
    authContext: unknown;
    chain: LitChainName;
  }): Promise<{ decryptedData: Uint8Array }>;
  disconnect?(): void | Promise<void>;
}

/** The SDK entry points, loaded lazily by {@link loadLitSdk} (tests pass objects built from these types). */
export interface LitSdk {
  createLitClient(options: { network: LitNetworkModule }): Promise<LitSdkClient>;
  networks: { [name in LitNetworkName]?: LitNetworkModule };
  /** @lit-protocol/access-control-conditions' schema check, run on every condition before it is used. */
  validateConditions(conditions: LitUnifiedCondition[]): Promise<true>;
}

export class LitUnavailableError extends StreamVaultError {
  constructor(cause: unknown) {
    super("unavailable", 
      "the Lit Protocol SDK could not be loaded: `npm install` at the repository root installs @lit-protocol/lit-client, @lit-protocol/networks, @lit-protocol/auth and @lit-protocol/access-control-conditions (v8), or pass a client",
      { cause },
    );
    this.name = "LitUnavailableError";
  }
}

/** Loads the Lit SDK v8 on first use (several MB of code: never loaded unless Lit is configured). */
export async function loadLitSdk(): Promise<LitSdk> {
  try {
    const [client, networks, accs] = await Promise.all([import("@lit-protocol/lit-client"), import("@lit-protocol/networks"), import("@lit-protocol/access-control-conditions")]);
    if (typeof client.createLitClient !== "function") throw new Error("@lit-protocol/lit-client has no createLitClient (need v8)");
    const available: LitSdk["networks"] = {};
    for (const name of LIT_NETWORKS) if (networks[name] !== undefined) available[name] = networks[name];
    return {
      createLitClient: async (options) => client.createLitClient(options),
      networks: available,
      validateConditions: (conditions) => accs.validateUnifiedAccessControlConditionsSchema(conditions),
    };
  } catch (error) {
    throw new LitUnavailableError(error);
  }
}

/** Is this a Lit auth context (session key pair, auth config, callback), as `decrypt` needs? */
export function isLitAuthContext(value: unknown): value is LitAuthContext {
  const v = value as { sessionKeyPair?: { publicKey?: unknown; secretKey?: unknown }; authConfig?: unknown; authNeededCallback?: unknown } | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.sessionKeyPair?.publicKey === "string" &&
    typeof v.sessionKeyPair?.secretKey === "string" &&
    typeof v.authConfig === "object" &&
    v.authConfig !== null &&
    typeof v.authNeededCallback === "function"
  );
}

/**
 * A real SDK client behind {@link LitClientLike}: conditions are checked with the SDK's own schema
 * before use, auth contexts must be SDK auth contexts, and the SDK's answers are reduced to what
 * the escrow keeps.
 */
export class LitSdkClientAdapter implements LitClientLike {
  readonly #client: LitSdkClient;
  readonly #validate: LitSdk["validateConditions"];

  constructor(client: LitSdkClient, validateConditions: LitSdk["validateConditions"]) {
    this.#client = client;
    this.#validate = validateConditions;
  }

  async encrypt(params: { dataToEncrypt: Uint8Array | string; unifiedAccessControlConditions: EvmContractCondition[]; chain: LitChainName }): Promise<{ ciphertext: string; dataToEncryptHash: string }> {
    await this.#validate(params.unifiedAccessControlConditions);
    const request: LitEncryptRequest = {
      // The SDK's schema takes a Uint8Array over an ArrayBuffer: copy, so a view of a larger buffer does not leak the rest.
      dataToEncrypt: typeof params.dataToEncrypt === "string" ? params.dataToEncrypt : new Uint8Array(params.dataToEncrypt),
      unifiedAccessControlConditions: params.unifiedAccessControlConditions,
      chain: params.chain,
    };
    const { ciphertext, dataToEncryptHash }: LitEncryptResponse = await this.#client.encrypt(request);
    if (typeof ciphertext !== "string" || typeof dataToEncryptHash !== "string") throw new Error("Lit encrypt returned no ciphertext");
    return { ciphertext, dataToEncryptHash };
  }

  async decrypt(params: { ciphertext: string; dataToEncryptHash: string; unifiedAccessControlConditions: EvmContractCondition[]; authContext: unknown; chain: LitChainName }): Promise<{ decryptedData: Uint8Array }> {
    if (!isLitAuthContext(params.authContext)) {
      throw new TypeError("not a Lit auth context: create one with @lit-protocol/auth (createAuthManager(...).createEoaAuthContext) for the wallet");
    }
    await this.#validate(params.unifiedAccessControlConditions);
    const request: LitDecryptRequest = {
      ciphertext: params.ciphertext,
      dataToEncryptHash: params.dataToEncryptHash,
      unifiedAccessControlConditions: params.unifiedAccessControlConditions,
      authContext: params.authContext,
      chain: params.chain,
    };
    const response: LitDecryptResponse = await this.#client.decrypt(request);
    return { decryptedData: new Uint8Array(response.decryptedData) };
  }

  disconnect(): void {
    this.#client.disconnect();
  }
}

// ------------------------------------------------------------------ configuration

/** Lit's names of public chains by chain id (a subset of LIT_EVM_CHAINS in @lit-protocol/constants). */
export const LIT_CHAIN_BY_ID: Readonly<Record<number, LitChainName>> = {
  1: "ethereum",
  314: "filecoin",
  314159: "filecoinCalibrationTestnet",
  8453: "base",
  84532: "baseSepolia",
  11155111: "sepolia",
};

/** Chains no Lit node can read (local development). */
const LOCAL_CHAIN_IDS = new Set([31337, 1337]);

export type LitConfig = { enabled: true; network: LitNetworkName; litChain: LitChainName } | { enabled: false; why: string };

/**
 * Whether Lit is to be used: only with `LIT_NETWORK` (a @lit-protocol/networks name such as
 * "nagaDev" or "naga") together with a public chain Lit reads, given as `LIT_CHAIN` (Lit's chain name)
 * or known from the deployment's chain id. Anything else (no LIT_NETWORK, a local chain) keeps the
 * embedded chain gate, and the SDK is never loaded. A LIT_NETWORK Lit does not have is an error.
 */
export function litConfigFromEnv(env: Record<string, string | undefined>, chainId: number): LitConfig {
  const network = env.LIT_NETWORK?.trim();
  if (!network) return { enabled: false, why: "LIT_NETWORK is not set" };
  if (!(LIT_NETWORKS as readonly string[]).includes(network)) throw new Error(`LIT_NETWORK="${network}" is not a Lit network: use one of ${LIT_NETWORKS.join(", ")}`);
  if (LOCAL_CHAIN_IDS.has(chainId)) return { enabled: false, why: `chain ${chainId} is a local chain the Lit nodes cannot read` };
  // A LIT_CHAIN outside Lit's list is refused by the SDK's condition schema on first use.
  const litChain = (env.LIT_CHAIN?.trim() as LitChainName | undefined) || LIT_CHAIN_BY_ID[chainId];
  if (!litChain) return { enabled: false, why: `chain ${chainId} has no Lit chain name: set LIT_CHAIN (Lit's name of the chain ContentAccess is on)` };
  return { enabled: true, network: network as LitNetworkName, litChain };
}

/** `ContentAccess.hasValidAccess(:userAddress, contentId) == true` as a Lit condition. */
export function hasValidAccessCondition(contentAccess: Address, contentId: Hex, litChain: LitChainName): EvmContractCondition {
  if (!/^0x[0-9a-fA-F]{64}$/.test(contentId)) throw new RangeError("contentId must be bytes32 hex");
  return {
    conditionType: "evmContract",
    contractAddress: contentAccess,
    functionName: "hasValidAccess",
    functionParams: [":userAddress", contentId.toLowerCase()],
    functionAbi: {
      type: "function",
      name: "hasValidAccess",
      stateMutability: "view",
      inputs: [
        { name: "user", type: "address", internalType: "address" },
        { name: "contentId", type: "bytes32", internalType: "bytes32" },
      ],
      outputs: [{ name: "", type: "bool", internalType: "bool" }],
    },
    chain: litChain,
    returnValueTest: { key: "", comparator: "=", value: "true" },
  };
}

/** A Lit ciphertext of one item, stored wherever the caller likes (manifest, database). */
export interface LitSealed {
  contentId: Hex;
  ciphertext: string;
  dataToEncryptHash: string;
  chain: LitChainName;
  conditions: EvmContractCondition[];
}

export interface LitOptions {
  /** ContentAccess address on the chain Lit evaluates. */
  contentAccess: Address;
  /** Lit's name for that chain (e.g. "filecoin"; check Lit's supported-chains list for Calibration). */
  litChain: LitChainName;
  /** An already connected client (tests inject a mock); otherwise the SDK is loaded and a client created on `network`. */
  client?: LitClientLike;
  /** Lit network name exported by @lit-protocol/networks (e.g. "nagaDev", "naga"). Default "nagaDev". */
  network?: LitNetworkName | (string & {});
  /** Loader override (tests). */
  loadSdk?: () => Promise<LitSdk>;
}

async function connect(options: LitOptions): Promise<LitClientLike> {
  if (options.client) return options.client;
  const sdk = await (options.loadSdk ?? loadLitSdk)();
  const name = options.network ?? "nagaDev";
  const network = (sdk.networks as Record<string, LitNetworkModule | undefined>)[name];
  if (network === undefined) throw new Error(`unknown Lit network "${name}"`);
  return new LitSdkClientAdapter(await sdk.createLitClient({ network }), sdk.validateConditions);
}

/** Encrypts content keys under the hasValidAccess condition and opens them with a wallet's Lit auth context. */
export class LitKeyEscrow {
  readonly #options: LitOptions;
  #client: Promise<LitClientLike> | undefined;

  constructor(options: LitOptions) {
    this.#options = options;
  }

  #lit(): Promise<LitClientLike> {
    this.#client ??= connect(this.#options);
    return this.#client;
  }

  async seal(contentId: Hex, key: Uint8Array): Promise<LitSealed> {
    const conditions = [hasValidAccessCondition(this.#options.contentAccess, contentId, this.#options.litChain)];
    const { ciphertext, dataToEncryptHash } = await (await this.#lit()).encrypt({ dataToEncrypt: key, unifiedAccessControlConditions: conditions, chain: this.#options.litChain });
    return { contentId: contentId.toLowerCase() as Hex, ciphertext, dataToEncryptHash, chain: this.#options.litChain, conditions };
  }

  /** Decrypts with the wallet's auth context; the Lit nodes refuse unless the condition holds for that wallet. */
  async open(sealed: LitSealed, authContext: unknown): Promise<Uint8Array> {
    const expected = hasValidAccessCondition(this.#options.contentAccess, sealed.contentId, sealed.chain);
    // Never trust conditions carried with the ciphertext: rebuild them from the content id.
    if (JSON.stringify(sealed.conditions) !== JSON.stringify([expected])) throw new Error("sealed key carries unexpected access conditions");
    const { decryptedData } = await (await this.#lit()).decrypt({
      ciphertext: sealed.ciphertext,
      dataToEncryptHash: sealed.dataToEncryptHash,
      unifiedAccessControlConditions: [expected],
      authContext,
      chain: sealed.chain,
    });
    return new Uint8Array(decryptedData);
  }

  async close(): Promise<void> {
    if (this.#client) await (await this.#client).disconnect?.();
  }
}

/** Errors from Lit that mean "condition not met" rather than "Lit unavailable" (SDK errors carry their code in `meta`). */
export function isLitAccessDenied(error: unknown): boolean {
  const e = error as { name?: string; message?: string; errorCode?: string; meta?: { code?: string; kind?: string } } | null;
  const text = `${e?.name ?? ""} ${e?.message ?? ""} ${e?.errorCode ?? ""} ${e?.meta?.code ?? ""}`;
  return /access.?control.?conditions.?check.?failed|NodeAccessControlConditionsReturnedNotAuthorized|NodeNotAuthorized|UnauthorizedException|not authorized|access denied/i.test(text);
}

/**
 * A {@link LitKeyEscrow} when {@link litConfigFromEnv} enables Lit, else undefined (and the SDK is not
 * loaded). `why` says why Lit stays off, for a startup log line.
 */
export function litEscrowFromEnv(options: {
  env: Record<string, string | undefined>;
  chainId: number;
  contentAccess: Address;
  loadSdk?: () => Promise<LitSdk>;
}): { escrow: LitKeyEscrow; network: LitNetworkName; litChain: LitChainName } | { escrow: undefined; why: string } {
  const config = litConfigFromEnv(options.env, options.chainId);
  if (!config.enabled) return { escrow: undefined, why: config.why };
  const escrow = new LitKeyEscrow({ contentAccess: options.contentAccess, litChain: config.litChain, network: config.network, loadSdk: options.loadSdk });
  return { escrow, network: config.network, litChain: config.litChain };
}

export interface LitAccessGateOptions extends LitOptions {
  /** The wallet's Lit auth context (created in the browser from the wallet's signature and handed over for this check). */
  authContextFor(wallet: Address): Promise<unknown>;
  /** Probe ciphertext per item (sealed once with {@link LitKeyEscrow.seal} over {@link LIT_PROBE}); undefined = item not set up for Lit. */
  probeFor(contentId: Hex): Promise<LitSealed | undefined>;
}

/** Plaintext of a probe: decrypting it proves the nodes granted access, without touching the content key. */
export const LIT_PROBE = new TextEncoder().encode("streamvault/lit-probe/v1");

/** AccessGate backed by the Lit network's evaluation of hasValidAccess (optional backend). */
export class LitAccessGate implements AccessGate {
  readonly name = "lit";
  readonly #escrow: LitKeyEscrow;
  readonly #options: LitAccessGateOptions;

  constructor(options: LitAccessGateOptions) {
    this.#options = options;
    this.#escrow = new LitKeyEscrow(options);
  }

  async check(wallet: Address, contentId: Hex): Promise<AccessDecision> {
    const probe = await this.#options.probeFor(contentId);
    if (probe === undefined) return { granted: false, reason: "none", expiresAt: null, unknownContent: true, denial: "unknown content: this item is not set up for Lit access" };
    const authContext = await this.#options.authContextFor(wallet);
    try {
      const plain = await this.#escrow.open(probe, authContext);
      if (plain.length !== LIT_PROBE.length || !plain.every((b, i) => b === LIT_PROBE[i])) throw new Error("Lit probe decrypted to unexpected bytes");
      // Lit says yes but not why or until when: the reason is reported as the condition itself.
      return { granted: true, reason: "lit-condition", expiresAt: null };
    } catch (error) {
      if (isLitAccessDenied(error)) return { granted: false, reason: "none", expiresAt: null, denial: "no access (Lit network): buy a pass or subscribe" };
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#escrow.close();
  }
}

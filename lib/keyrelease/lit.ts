/**
 * Lit Protocol as an optional access backend (the embedded chain gate stays the default, and is
 * the only one that works offline).
 *
 * The Lit SDK v8 packages (`@lit-protocol/lit-client`, `@lit-protocol/networks`,
 * `@lit-protocol/access-control-conditions`) are NOT installed in this repository: they pin viem
 * 2.38.3 as an exact peer dependency, and installing them at the root would disturb the root viem
 * (2.4x/2.5x) everything else uses. This module therefore
 *   - is written against a minimal typed interface of the parts of the SDK it uses ({@link LitClientLike}),
 *   - loads the real SDK lazily (`await import(...)`) only when a Lit gate is actually created
 *     without an injected client, and says how to install it when it is missing,
 *   - is unit-tested with a mock client (test/keyrelease/lit.test.ts).
 *
 * Model: the condition is `ContentAccess.hasValidAccess(:userAddress, contentId) == true`, evaluated
 * by the Lit nodes on the chain. {@link LitKeyEscrow} encrypts a content key under it (a decentralised
 * copy the browser can decrypt with Lit directly, without this server); {@link LitAccessGate} is an
 * {@link AccessGate} that asks Lit to decrypt a per-item probe under that condition with the wallet's
 * Lit auth context: decryption succeeds exactly when the nodes agree the wallet has access.
 */
import type { Address, Hex } from "viem";
import type { AccessDecision, AccessGate } from "./gate.ts";

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
  chain: string;
  returnValueTest: { key: string; comparator: "="; value: string };
}

/** The parts of the Lit v8 client this module uses (`createLitClient(...)` returns a superset). */
export interface LitClientLike {
  encrypt(params: { dataToEncrypt: Uint8Array | string; unifiedAccessControlConditions: EvmContractCondition[]; chain: string }): Promise<{ ciphertext: string; dataToEncryptHash: string }>;
  decrypt(params: {
    ciphertext: string;
    dataToEncryptHash: string;
    unifiedAccessControlConditions: EvmContractCondition[];
    authContext: unknown;
    chain: string;
  }): Promise<{ decryptedData: Uint8Array }>;
  disconnect?(): void | Promise<void>;
}

/** The SDK entry points loaded lazily. */
export interface LitSdk {
  createLitClient(options: { network: unknown }): Promise<LitClientLike>;
  networks: Record<string, unknown>;
}

export class LitUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      "the Lit Protocol SDK is not installed: install @lit-protocol/lit-client, @lit-protocol/networks and @lit-protocol/access-control-conditions (v8; they pin viem 2.38.3 as a peer, so install them in the app that uses Lit, not at this repository's root), or pass a client",
      { cause },
    );
    this.name = "LitUnavailableError";
  }
}

/** Loads the Lit SDK v8 on first use. Package names are held in variables so bundlers and tsc do not require them. */
export async function loadLitSdk(importer: (name: string) => Promise<unknown> = (name) => import(name)): Promise<LitSdk> {
  const clientPkg = "@lit-protocol/lit-client";
  const networksPkg = "@lit-protocol/networks";
  try {
    const client = (await importer(clientPkg)) as { createLitClient: LitSdk["createLitClient"] };
    const networks = (await importer(networksPkg)) as Record<string, unknown>;
    if (typeof client.createLitClient !== "function") throw new Error(`${clientPkg} has no createLitClient (need v8)`);
    return { createLitClient: client.createLitClient, networks };
  } catch (error) {
    throw new LitUnavailableError(error);
  }
}

/** `ContentAccess.hasValidAccess(:userAddress, contentId) == true` as a Lit condition. */
export function hasValidAccessCondition(contentAccess: Address, contentId: Hex, litChain: string): EvmContractCondition {
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
  chain: string;
  conditions: EvmContractCondition[];
}

export interface LitOptions {
  /** ContentAccess address on the chain Lit evaluates. */
  contentAccess: Address;
  /** Lit's name for that chain (e.g. "filecoin"; check Lit's supported-chains list for Calibration). */
  litChain: string;
  /** An already connected client (tests inject a mock); otherwise the SDK is loaded and a client created on `network`. */
  client?: LitClientLike;
  /** Lit network name exported by @lit-protocol/networks (e.g. "nagaDev", "naga"). Default "nagaDev". */
  network?: string;
  /** Loader override (tests). */
  loadSdk?: () => Promise<LitSdk>;
}

async function connect(options: LitOptions): Promise<LitClientLike> {
  if (options.client) return options.client;
  const sdk = await (options.loadSdk ?? loadLitSdk)();
  const name = options.network ?? "nagaDev";
  const network = sdk.networks[name];
  if (network === undefined) throw new Error(`unknown Lit network "${name}"`);
  return sdk.createLitClient({ network });
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

/** Errors from Lit that mean "condition not met" rather than "Lit unavailable". */
export function isLitAccessDenied(error: unknown): boolean {
  const text = `${(error as { name?: string })?.name ?? ""} ${(error as { message?: string })?.message ?? ""} ${(error as { errorCode?: string })?.errorCode ?? ""}`;
  return /access.?control.?conditions.?check.?failed|NodeAccessControlConditionsReturnedNotAuthorized|not authorized|access denied/i.test(text);
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

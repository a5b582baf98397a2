/**
 * Filecoin Onchain Cloud backend via the Synapse SDK: uploads go to warm-storage providers
 * (PDP-proven, optionally with FilBeam CDN), downloads come from FilBeam or the provider.
 *
 * The same code runs against the real network and, in tests, against the SDK's own msw
 * mocks plus an in-process fake provider (see test/storage/fake-foc.ts): only the JSON-RPC
 * and provider HTTP endpoints are swapped, nothing in this file knows about tests.
 */
import { calibration, mainnet } from "@filoz/synapse-core/chains";
import type { Chain } from "@filoz/synapse-core/chains";
import * as Piece from "@filoz/synapse-core/piece";
import { SIZE_CONSTANTS, parseUnits } from "@filoz/synapse-core/utils";
import { getServicePrice } from "@filoz/synapse-core/warm-storage";
import { Synapse } from "@filoz/synapse-sdk";
import type { PDPProvider } from "@filoz/synapse-sdk";
import type { StorageContext } from "@filoz/synapse-sdk/storage";
import { http } from "viem";
import type { Hash, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { assertPieceSize, pieceCidOf, normalizePieceCid, sliceRange, verifyPiece } from "./piece.ts";
import { MAX_PIECE_BYTES, MIN_PIECE_BYTES, PieceIntegrityError, PieceNotFoundError } from "./types.ts";
import type { ByteRange, PieceStore, PutOptions, PutResult } from "./types.ts";
import type { PriceList } from "./cost.ts";

// Our limits must match the SDK's, or errors would come from deep inside an upload.
if (SIZE_CONSTANTS.MIN_UPLOAD_SIZE !== MIN_PIECE_BYTES || SIZE_CONSTANTS.MAX_UPLOAD_SIZE !== MAX_PIECE_BYTES) {
  throw new Error("synapse-core size limits changed; update MIN/MAX_PIECE_BYTES in lib/storage/types.ts");
}

export type SynapseNetwork = "calibration" | "mainnet";

/** Where reads come from: FilBeam CDN, the storage provider, or CDN then provider. */
export type RetrievalMode = "auto" | "cdn" | "provider";

export interface SynapseEnvConfig {
  privateKey: Hex;
  /** JSON-RPC endpoint; default is the chain's public Glif endpoint. */
  rpcUrl?: string;
  network: SynapseNetwork;
  withCDN: boolean;
  /** Number of provider copies per piece (the SDK's default is 2). */
  copies: number;
}

/** Read SYNAPSE_* env vars; throws with a clear message when the private key is missing. */
export function synapseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SynapseEnvConfig {
  const privateKey = env.SYNAPSE_PRIVATE_KEY;
  if (!privateKey) throw new Error("SYNAPSE_PRIVATE_KEY is required for STORAGE_BACKEND=synapse");
  const network = (env.SYNAPSE_NETWORK ?? "calibration") as SynapseNetwork;
  if (network !== "calibration" && network !== "mainnet") {
    throw new Error(`SYNAPSE_NETWORK must be calibration or mainnet, got ${network}`);
  }
  const copies = env.SYNAPSE_COPIES ? Number(env.SYNAPSE_COPIES) : 2;
  if (!Number.isInteger(copies) || copies < 1) throw new Error(`SYNAPSE_COPIES must be a positive integer`);
  return {
    privateKey: (privateKey.startsWith("0x") ? privateKey : `0x${privateKey}`) as Hex,
    rpcUrl: env.SYNAPSE_RPC_URL || undefined,
    network,
    withCDN: /^(1|true|yes)$/i.test(env.SYNAPSE_WITH_CDN ?? ""),
    copies,
  };
}

/** The viem chain definition for a network name. */
export function chainFor(network: SynapseNetwork): Chain {
  return network === "mainnet" ? mainnet : calibration;
}

/** Build a Synapse client from config (no network traffic until first use). */
export function createSynapse(config: Pick<SynapseEnvConfig, "privateKey" | "rpcUrl" | "network" | "withCDN">): Synapse {
  return Synapse.create({
    account: privateKeyToAccount(config.privateKey),
    chain: chainFor(config.network),
    transport: http(config.rpcUrl),
    withCDN: config.withCDN,
    // Namespaces our data sets so other apps using the same wallet don't reuse them.
    source: "streamvault",
  });
}

export interface SynapseStoreOptions {
  synapse: Synapse;
  /** Provider copies per piece. Default 2. */
  copies?: number;
  /** Enable FilBeam CDN on new data sets. Default: the Synapse instance's setting. */
  withCDN?: boolean;
  /** Data set metadata (must match for an existing data set to be reused). */
  metadata?: Record<string, string>;
  /** Where get() reads from. Default "auto" (CDN when enabled, then provider). */
  retrieval?: RetrievalMode;
}

/** PieceStore on Filecoin warm storage through the Synapse SDK. */
export class SynapseStore implements PieceStore {
  readonly name: string;
  /** Downloads are PieceCID-validated by the SDK path, so wrappers need not hash again. */
  readonly verifiesReads = true;
  readonly synapse: Synapse;
  readonly copies: number;
  readonly withCDN: boolean;
  readonly retrieval: RetrievalMode;
  readonly #metadata: Record<string, string> | undefined;
  /** Shared with read views so they reuse provider selection. */
  #shared: { contexts?: Promise<StorageContext[]> };

  constructor(options: SynapseStoreOptions, shared?: { contexts?: Promise<StorageContext[]> }) {
    this.synapse = options.synapse;
    this.copies = options.copies ?? 2;
    this.withCDN = options.withCDN ?? options.synapse.storage.withCDN;
    this.retrieval = options.retrieval ?? "auto";
    this.#metadata = options.metadata;
    this.#shared = shared ?? {};
    this.name = this.retrieval === "auto" ? "synapse" : `synapse-${this.retrieval}`;
  }

  /** A read view of the same store that retrieves only via `mode` (for ordered fallback). */
  view(mode: RetrievalMode): SynapseStore {
    return new SynapseStore(
      { synapse: this.synapse, copies: this.copies, withCDN: this.withCDN, metadata: this.#metadata, retrieval: mode },
      this.#shared,
    );
  }

  /** Provider/data-set pairs, selected once and reused so pieces land in the same data sets. */
  contexts(): Promise<StorageContext[]> {
    this.#shared.contexts ??= this.synapse.storage
      .createContexts({ copies: this.copies, withCDN: this.withCDN, metadata: this.#metadata })
      .catch((err: unknown) => {
        this.#shared.contexts = undefined; // let the next call retry selection
        throw err;
      });
    return this.#shared.contexts;
  }

  /** Upload (store on the primary, SP-to-SP pull to secondaries, commit on-chain). */
  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    assertPieceSize(bytes.length);
    const pieceCid = pieceCidOf(bytes, options.pieceCid);
    const size = bytes.length;
    if (await this.has(pieceCid)) {
      options.onProgress?.(size, size);
      return { pieceCid, size, existed: true };
    }
    const contexts = await this.contexts();
    const result = await this.synapse.storage.upload(bytes, {
      contexts,
      // Passing our CID lets the provider verify it instead of us hashing twice.
      pieceCid: Piece.parse(pieceCid),
      signal: options.signal,
      pieceMetadata: options.metadata,
      callbacks: { onProgress: (uploaded) => options.onProgress?.(uploaded, size) },
    });
    if (result.pieceCid.toString() !== pieceCid) {
      throw new PieceIntegrityError(pieceCid, this.name, result.pieceCid.toString());
    }
    if (!result.complete) {
      // Partial success still leaves a durable copy; surface it without failing the put.
      this.onPartialUpload?.(pieceCid, result.copies.length, result.requestedCopies);
    }
    return { pieceCid, size, existed: false };
  }

  /** Timeout for one CDN download, in ms. */
  cdnTimeoutMs = 5 * 60_000;

  /** Optional hook called when fewer provider copies than requested were committed. */
  onPartialUpload?: (pieceCid: string, copies: number, requested: number) => void;

  /** Download, validate against the PieceCID, then slice to the range. */
  async get(pieceCid: string, range?: ByteRange): Promise<Uint8Array> {
    const cid = normalizePieceCid(pieceCid);
    const order: Array<"cdn" | "provider"> =
      this.retrieval === "auto" ? (this.withCDN ? ["cdn", "provider"] : ["provider"]) : [this.retrieval];
    let lastError: unknown;
    for (const source of order) {
      try {
        const bytes = source === "cdn" ? await this.#fetchCdn(cid) : await this.#fetchProvider(cid);
        return sliceRange(bytes, range);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Whether any of our providers (or any provider holding one of our data sets) has the piece. */
  async has(pieceCid: string): Promise<boolean> {
    return (await this.#providerUrl(normalizePieceCid(pieceCid))) !== undefined;
  }

  /** FilBeam CDN URL for the piece (payer address as subdomain). */
  urlFor(pieceCid: string): string {
    return filbeamUrl(this.synapse.client.account.address, this.synapse.chain, normalizePieceCid(pieceCid));
  }

  async #fetchCdn(cid: string): Promise<Uint8Array> {
    // Bounded so a stalled CDN edge falls through to the provider instead of hanging.
    const res = await fetch(this.urlFor(cid), { signal: AbortSignal.timeout(this.cdnTimeoutMs) });
    if (res.status === 404) throw new PieceNotFoundError(cid, `${this.name}(cdn)`);
    if (!res.ok) throw new Error(`FilBeam returned HTTP ${res.status} for ${cid}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    verifyPiece(bytes, cid, `${this.name}(cdn)`);
    return bytes;
  }

  async #fetchProvider(cid: string): Promise<Uint8Array> {
    const url = await this.#providerUrl(cid);
    if (url === undefined) throw new PieceNotFoundError(cid, `${this.name}(provider)`);
    try {
      // The SDK streams the body through a PieceCID hasher and rejects on mismatch.
      return await Piece.downloadAndValidate({ url, expectedPieceCid: cid });
    } catch (err) {
      if (err instanceof Error && /verification failed/i.test(err.message)) {
        throw new PieceIntegrityError(cid, `${this.name}(provider)`);
      }
      throw err;
    }
  }

  async #providerUrl(cid: string): Promise<string | undefined> {
    const providers: PDPProvider[] = this.#shared.contexts
      ? (await this.#shared.contexts.catch(() => [])).map((c) => c.provider)
      : [];
    try {
      return await Piece.resolvePieceUrl({
        client: this.synapse.client,
        address: this.synapse.client.account.address,
        pieceCid: Piece.parse(cid),
        resolvers: [Piece.providersResolver(providers), Piece.chainResolver],
      });
    } catch {
      // AggregateError: no resolver found it.
      return undefined;
    }
  }

  /** Upload cost for `size` bytes across this store's contexts (copies), from the chain's price list. */
  async estimateUploadCost(size: number): Promise<UploadCostEstimate> {
    const contexts = await this.contexts();
    const costs = await this.synapse.storage.calculateMultiContextCosts(contexts, { dataSize: BigInt(size) });
    return {
      copies: contexts.length,
      perMonth: costs.rate.perMonth,
      perEpoch: costs.rate.perEpoch,
      depositNeeded: costs.depositNeeded,
      needsServiceApproval: costs.needsFwssMaxApproval,
      ready: costs.ready,
    };
  }
}

/** FilBeam retrieval URL: https://{payer}.calibration.filbeam.io/{cid} (mainnet: {payer}.filbeam.io). */
export function filbeamUrl(payer: string, chain: Chain, pieceCid: string): string {
  const domain = chain.filbeam?.retrievalDomain;
  if (!domain) throw new Error(`FilBeam is not available on chain ${chain.id}`);
  return `https://${payer}.${domain}/${pieceCid}`;
}

export interface UploadCostEstimate {
  copies: number;
  /** Storage rate for all copies, in USDFC base units (18 decimals). */
  perMonth: bigint;
  perEpoch: bigint;
  /** Additional deposit needed before this upload can start (0n when funded). */
  depositNeeded: bigint;
  /** True when the warm-storage service still needs operator approval. */
  needsServiceApproval: boolean;
  ready: boolean;
}

/**
 * Estimate what storing `size` bytes costs with `copies` provider copies, using the chain's
 * live price list and the wallet's current deposit/approval state.
 */
export async function estimateUploadCost(options: {
  synapse: Synapse;
  size: number;
  copies?: number;
  withCDN?: boolean;
}): Promise<UploadCostEstimate> {
  const store = new SynapseStore({ synapse: options.synapse, copies: options.copies, withCDN: options.withCDN });
  return store.estimateUploadCost(options.size);
}

/** Read the warm-storage price list from chain, in the shape cost.ts expects (USDFC, floats). */
export async function fetchPriceList(synapse: Synapse): Promise<PriceList> {
  const p = await getServicePrice(synapse.client);
  const toUsdfc = (v: bigint) => Number(v) / 1e18;
  return {
    storagePerTiBMonth: toUsdfc(p.pricePerTiBPerMonthNoCDN),
    cdnEgressPerTiB: toUsdfc(p.pricePerTiBCdnEgress),
    cacheMissEgressPerTiB: toUsdfc(p.pricePerTiBCacheMissEgress),
    minimumPerDataSetMonth: toUsdfc(p.minimumPricePerMonth),
  };
}

export interface SetupPaymentsOptions {
  synapse: Synapse;
  /** USDFC to deposit into Filecoin Pay, as a decimal string ("10.5") or base units. */
  deposit: string | bigint;
  /** Per-epoch rate allowance for the warm-storage service; default: unlimited. */
  rateAllowance?: bigint;
  /** Lockup allowance for the warm-storage service; default: unlimited. */
  lockupAllowance?: bigint;
  /** Max lockup period in epochs; default: the SDK's (30 days). */
  maxLockupPeriod?: bigint;
}

export interface SetupPaymentsResult {
  depositTx: Hash | undefined;
  approvalTx: Hash | undefined;
  depositedBaseUnits: bigint;
}

/**
 * One-time wallet setup: deposit USDFC into Filecoin Pay and approve the warm-storage
 * service as operator. Uses EIP-2612 permits, so it is one transaction (deposit + approval
 * together, or deposit alone when the service is already approved) instead of three.
 */
export async function setupPayments(options: SetupPaymentsOptions): Promise<SetupPaymentsResult> {
  const { synapse } = options;
  const amount = typeof options.deposit === "bigint" ? options.deposit : parseUnits(options.deposit, 18);
  if (amount < 0n) throw new Error("deposit must not be negative");
  if (amount > 0n) {
    const balance = await synapse.payments.walletBalance({ token: "USDFC" });
    if (balance < amount) {
      throw new Error(`wallet holds ${balance} USDFC base units, cannot deposit ${amount}; get USDFC first`);
    }
  }
  const custom =
    options.rateAllowance !== undefined || options.lockupAllowance !== undefined || options.maxLockupPeriod !== undefined;
  const needsApproval = custom || !(await synapse.payments.serviceApproval()).isApproved;
  const allowances = {
    rateAllowance: options.rateAllowance,
    lockupAllowance: options.lockupAllowance,
    maxLockupPeriod: options.maxLockupPeriod,
  };
  if (amount > 0n && needsApproval) {
    const tx = await synapse.payments.depositWithPermitAndApproveOperator({ amount, ...allowances });
    return { depositTx: tx, approvalTx: tx, depositedBaseUnits: amount };
  }
  if (amount > 0n) {
    const tx = await synapse.payments.depositWithPermit({ amount });
    return { depositTx: tx, approvalTx: undefined, depositedBaseUnits: amount };
  }
  const approvalTx = needsApproval ? await synapse.payments.approveService(allowances) : undefined;
  return { depositTx: undefined, approvalTx, depositedBaseUnits: 0n };
}

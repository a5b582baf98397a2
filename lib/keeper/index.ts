/**
 * The voucher keeper: redeems each open pay-per-minute channel's best voucher (the highest one the
 * key-release service kept) before the channel can no longer take it, so a creator who never opens
 * the studio is still paid for every minute delivered. `redeemVoucher` is permissionless (the money
 * always goes to the content's split), so any funded account can run it.
 *
 * One pass ({@link VoucherKeeper.runOnce}):
 *   1. finds the channels opened since the last pass (ChannelOpened logs, scanned in chunks of
 *      `logChunkBlocks` from where the last pass stopped: RPCs cap log ranges);
 *   2. reads each known channel (getChannel, sessionKeyOf); closed ones are forgotten;
 *   3. asks the voucher source for the kept vouchers of those channels;
 *   4. redeems a voucher when what it can still pay (min(amount, deposit) - redeemed) is above 0 and
 *      either its deadline is within `closeMarginSeconds` (deadline = the channel's close time, or
 *      for a session-key voucher the key's expiry plus the challenge period, whichever is first), or
 *      the unredeemed amount reaches the threshold.
 * Each redemption is simulated first, so one a creator (or another keeper) already made costs no gas.
 */
import { isAddressEqual, recoverTypedDataAddress, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";
import { voucherTypedData } from "../chain/voucher.ts";
import { contractOf, type Deployment } from "../deployments/index.ts";
import type { SqlClient } from "../db/index.ts";

/** PaymentChannels.CHALLENGE_PERIOD: a session key's vouchers stay redeemable this long after its expiry. */
const CHALLENGE_PERIOD_SECONDS = 86_400;

/** A voucher kept for a channel (what KeyReleaseService.bestVouchers returns). */
export interface KeptVoucher {
  channelId: string;
  cumulativeAmount: bigint;
  signature: Hex | null;
}

/** Where the kept vouchers come from: the key-release service in this process, its database, or the web app over HTTP. */
export interface VoucherSource {
  bestVouchers(channelIds: readonly bigint[]): Promise<KeptVoucher[]>;
}

export interface KeeperLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface VoucherKeeperOptions {
  publicClient: PublicClient;
  /** The funded account that sends the redemptions (it pays the gas; the money goes to the split). */
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  deployment: Deployment;
  source: VoucherSource;
  /** Redeem when the voucher's deadline is this close, seconds (default 3600). */
  closeMarginSeconds?: number;
  /**
   * Redeem when the unredeemed amount reaches this many base units of the channel's token (default:
   * none), or this fraction of the deposit (default 0.5), whichever comes first.
   */
  thresholdAmount?: bigint;
  thresholdFraction?: number;
  /** Blocks per eth_getLogs call (default 2000: Filecoin RPCs cap ranges at ~2,000 epochs). */
  logChunkBlocks?: number;
  logger?: KeeperLogger;
}

export interface Redemption {
  channelId: string;
  /** What the redemption paid (min(amount, deposit) - redeemed before). */
  paid: bigint;
  cumulativeAmount: bigint;
  reason: "deadline" | "threshold";
  txHash: Hex;
}

export interface KeeperPass {
  /** Open or closing channels looked at. */
  channels: number;
  redeemed: Redemption[];
  /** Vouchers that could pay but whose deadline has passed (the viewer may reclaim): a keeper that ran too rarely. */
  missed: string[];
  failed: { channelId: string; error: string }[];
}

const STATUS_OPEN = 1;
const STATUS_CLOSING = 2;

export class VoucherKeeper {
  readonly #o: Required<Omit<VoucherKeeperOptions, "thresholdAmount">> & { thresholdAmount: bigint | undefined };
  readonly #contract: ReturnType<typeof contractOf<"PaymentChannels">>;
  /** Channels seen opened and not yet seen closed. */
  readonly #known = new Set<bigint>();
  #nextBlock: bigint;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<KeeperPass> | undefined;

  constructor(options: VoucherKeeperOptions) {
    const fraction = options.thresholdFraction ?? 0.5;
    if (!(fraction > 0 && fraction <= 1)) throw new Error(`thresholdFraction must be in (0, 1], got ${fraction}`);
    this.#o = {
      closeMarginSeconds: 3600,
      logChunkBlocks: 2000,
      logger: { info: () => {}, error: () => {} },
      ...options,
      thresholdFraction: fraction,
      thresholdAmount: options.thresholdAmount,
    };
    this.#contract = contractOf(options.deployment, "PaymentChannels");
    this.#nextBlock = BigInt(this.#contract.blockNumber);
  }

  /** The account redemptions are sent from. */
  get account(): Address {
    return this.#o.walletClient.account.address;
  }

  /** One pass over every open channel (see the file comment). Passes never overlap: a call during one returns it. */
  runOnce(): Promise<KeeperPass> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Runs a pass now and then every `intervalSeconds`; failures are logged, never thrown. */
  start(intervalSeconds = 60): void {
    if (this.#timer !== undefined) return;
    const tick = () => {
      this.runOnce()
        .then((pass) => {
          if (pass.redeemed.length > 0 || pass.missed.length > 0 || pass.failed.length > 0) {
            this.#o.logger.info("keeper pass", { channels: pass.channels, redeemed: pass.redeemed.map((r) => ({ ...r, paid: r.paid.toString(), cumulativeAmount: r.cumulativeAmount.toString() })), missed: pass.missed, failed: pass.failed });
          }
        })
        .catch((error: unknown) => this.#o.logger.error("keeper pass failed", { error: String(error) }))
        .finally(() => {
          if (this.#timer !== undefined) this.#timer = setTimeout(tick, intervalSeconds * 1000);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  async #pass(): Promise<KeeperPass> {
    const { publicClient } = this.#o;
    const { address, abi } = this.#contract;
    const latest = await publicClient.getBlock({ blockTag: "latest" });
    await this.#scanOpened(latest.number);
    const now = Number(latest.timestamp);
    const pass: KeeperPass = { channels: 0, redeemed: [], missed: [], failed: [] };
    const live: { id: bigint; channel: Awaited<ReturnType<typeof readChannel>> }[] = [];
    const readChannel = async (id: bigint) => {
      const [channel, sessionKey] = await Promise.all([
        publicClient.readContract({ address, abi, functionName: "getChannel", args: [id] }),
        publicClient.readContract({ address, abi, functionName: "sessionKeyOf", args: [id] }),
      ]);
      return { ...channel, sessionKey };
    };
    await Promise.all(
      [...this.#known].map(async (id) => {
        const channel = await readChannel(id);
        if (channel.status !== STATUS_OPEN && channel.status !== STATUS_CLOSING) this.#known.delete(id);
        else live.push({ id, channel });
      }),
    );
    pass.channels = live.length;
    if (live.length === 0) return pass;
    const vouchers = new Map((await this.#o.source.bestVouchers(live.map((c) => c.id))).map((v) => [v.channelId, v]));
    for (const { id, channel } of live.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const voucher = vouchers.get(id.toString());
      if (voucher?.signature == null || voucher.cumulativeAmount === 0n) continue;
      const payable = voucher.cumulativeAmount < channel.deposit ? voucher.cumulativeAmount : channel.deposit;
      const unredeemed = payable - channel.redeemed;
      if (unredeemed <= 0n) continue;
      try {
        let deadline = Number(channel.closesAt);
        const signer = await recoverTypedDataAddress({ ...voucherTypedData(this.#o.deployment.chainId, address, id, voucher.cumulativeAmount), signature: voucher.signature });
        if (!isAddressEqual(signer, channel.viewer)) deadline = Math.min(deadline, Number(channel.sessionKey.expiresAt) + CHALLENGE_PERIOD_SECONDS);
        if (now >= deadline) {
          pass.missed.push(id.toString());
          continue;
        }
        const threshold = this.#threshold(channel.deposit);
        const reason = deadline - now <= this.#o.closeMarginSeconds ? "deadline" : unredeemed >= threshold ? "threshold" : undefined;
        if (reason === undefined) continue;
        const args = [id, voucher.cumulativeAmount, voucher.signature] as const;
        const { request } = await publicClient.simulateContract({ address, abi, functionName: "redeemVoucher", args, account: this.#o.walletClient.account });
        const txHash = await this.#o.walletClient.writeContract(request as never);
        const receipt = await publicClient.waitForTransactionReceipt({ hash: txHash });
        if (receipt.status !== "success") throw new Error(`redeemVoucher reverted (${txHash})`);
        pass.redeemed.push({ channelId: id.toString(), paid: unredeemed, cumulativeAmount: voucher.cumulativeAmount, reason, txHash });
      } catch (error) {
        pass.failed.push({ channelId: id.toString(), error: error instanceof Error ? error.message.split("\n")[0]! : String(error) });
      }
    }
    return pass;
  }

  #threshold(deposit: bigint): bigint {
    // Fraction in parts per million, so the arithmetic stays in bigint.
    const byFraction = (deposit * BigInt(Math.round(this.#o.thresholdFraction * 1_000_000))) / 1_000_000n;
    const floor = byFraction > 0n ? byFraction : 1n;
    return this.#o.thresholdAmount !== undefined && this.#o.thresholdAmount < floor ? this.#o.thresholdAmount : floor;
  }

  /** Adds the channels opened in blocks [nextBlock, toBlock], in chunks. */
  async #scanOpened(toBlock: bigint): Promise<void> {
    const { address, abi } = this.#contract;
    const chunk = BigInt(this.#o.logChunkBlocks);
    while (this.#nextBlock <= toBlock) {
      const end = this.#nextBlock + chunk - 1n < toBlock ? this.#nextBlock + chunk - 1n : toBlock;
      const logs = await this.#o.publicClient.getContractEvents({ address, abi, eventName: "ChannelOpened", fromBlock: this.#nextBlock, toBlock: end, strict: true });
      for (const log of logs) this.#known.add(log.args.channelId);
      this.#nextBlock = end + 1n;
    }
  }
}

/**
 * Kept vouchers read straight from the key-release tables (`stream_channels` in `schema`), for a
 * keeper sharing the Postgres database of the web instances (production). Rows are per deployment
 * (chain id and the PaymentChannels deployment block's hash), like the service writes them.
 */
export class SqlVoucherSource implements VoucherSource {
  readonly #db: SqlClient;
  readonly #publicClient: PublicClient;
  readonly #contract: { address: Address; blockNumber: number };
  readonly #chainId: number;
  readonly #schema: string;
  #deployment: Promise<string> | undefined;

  constructor(options: { db: SqlClient; publicClient: PublicClient; deployment: Deployment; schema?: string }) {
    this.#db = options.db;
    this.#publicClient = options.publicClient;
    this.#contract = contractOf(options.deployment, "PaymentChannels");
    this.#chainId = options.deployment.chainId;
    this.#schema = options.schema ?? "keyrelease";
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.#schema)) throw new Error(`bad schema name "${this.#schema}"`);
  }

  async bestVouchers(channelIds: readonly bigint[]): Promise<KeptVoucher[]> {
    this.#deployment ??= this.#publicClient.getBlock({ blockNumber: BigInt(this.#contract.blockNumber) }).then((b) => `${this.#chainId}:${b.hash}`);
    const rows = await this.#db.query<{ channel_id: string; last_amount: string; last_signature: string | null }>(
      `SELECT channel_id, last_amount::text AS last_amount, last_signature FROM ${this.#schema}.stream_channels
        WHERE deployment = $1 AND contract = $2 AND channel_id = ANY($3::text[])`,
      [await this.#deployment, this.#contract.address.toLowerCase(), channelIds.map(String)],
    );
    return rows.rows.map((r) => ({ channelId: r.channel_id, cumulativeAmount: BigInt(r.last_amount), signature: (r.last_signature ?? null) as Hex | null }));
  }
}

/**
 * Kept vouchers asked of a web app over HTTP (`POST /api/keeper/vouchers`, bearer token
 * KEEPER_TOKEN): the embedded profile, where the web process owns the key-release PGlite.
 */
export class HttpVoucherSource implements VoucherSource {
  readonly url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.url = url;
    this.#token = token;
  }

  async bestVouchers(channelIds: readonly bigint[]): Promise<KeptVoucher[]> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.#token}` },
      body: JSON.stringify({ channelIds: channelIds.map(String) }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`${this.url}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json()) as { vouchers: { channelId: string; cumulativeAmount: string; signature: Hex | null }[] };
    return body.vouchers.map((v) => ({ channelId: v.channelId, cumulativeAmount: BigInt(v.cumulativeAmount), signature: v.signature }));
  }
}

/**
 * Pay-per-minute release (`POST /api/keys/:contentId/stream`) and its ledger, `stream_channels`:
 * per channel of a deployment, the minute windows released and the best voucher received. Both are
 * written with conditional updates in the database, so instances sharing it count each minute
 * once and any of them (or the voucher keeper) sees the best voucher another one received.
 */
import { isHex, size, type Address, type Hex } from "viem";
import { deriveMinuteKey, keyIdOf } from "../crypto/segment.ts";
import { MAX_MINUTE, minuteKeyLabel } from "../crypto/minute.ts";
import type { AuditLog } from "./audit.ts";
import { ChannelReader, SEGMENTS_PER_MINUTE, VoucherSignatureError, type ChannelState } from "./channels.ts";
import type { SqlClient } from "./db.ts";
import { failure, json, parseUint, pathParam, Refusal, toDate, type Logger } from "./http.ts";
import type { PlayLedger } from "./plays.ts";
import type { RequestLimits } from "./ratelimit.ts";
import { openKeyRequest, type ContentKeys, type KeyWrapper } from "./release.ts";
import type { Sessions } from "./sessions.ts";
import type { WrappedKey } from "./wrap.ts";

/** Manifest variant names (lib/manifest VariantSchema). */
const VARIANT_NAME = /^[A-Za-z0-9_-]{1,32}$/;
/** Variants whose minute keys one /stream request may ask for. */
const MAX_STREAM_VARIANTS = 8;

/** `POST /api/keys/:contentId/stream` success body. */
export interface StreamReleaseResponse {
  contentId: Hex;
  wallet: Address;
  channelId: string;
  /** The minute window whose keys are released. */
  minute: number;
  /** Distinct minute windows released on this channel so far (what the viewer pays for). */
  minutesDelivered: number;
  ratePerMinute: string;
  /** Smallest cumulativeAmount a request for a minute not yet received on this channel must carry (rate x (minutesDelivered + 1)). */
  nextVoucherMinimum: string;
  /**
   * One key per requested variant: the key of this minute window only (never the content key),
   * wrapped to the request's ephemeral key under the label "minute/<variant>/<minute>".
   */
  keys: StreamMinuteKey[];
}

export interface StreamMinuteKey {
  variant: string;
  minute: number;
  /** keyIdOf(minute key): identifies the key, reveals nothing about it. */
  keyId: string;
  wrapped: WrappedKey;
}

/** The best voucher the service received on a channel ({@link StreamLedger.bestVouchers}). */
export interface BestVoucher {
  channelId: string;
  /** Highest cumulativeAmount received (0 until a voucher above 0 arrives). */
  cumulativeAmount: bigint;
  /** Its signature, as the contract verifies it; null while no voucher above 0 was received. */
  signature: Hex | null;
  /** 6 x the number of minute windows released on the channel. */
  deliveredSegments: number;
  updatedAt: string;
}

/** A channel's best voucher with what a keeper needs to redeem it ({@link listRedeemableVouchers}). */
export interface RedeemableVoucher extends BestVoucher {
  signature: Hex;
  contentId: Hex;
  /** The channel's viewer (the wallet that signed in and streamed). */
  viewer: Address;
  ratePerMinute: bigint;
}

export interface RedeemableVoucherQuery {
  /** PaymentChannels address. */
  contract: Address;
  /** ChannelReader.deploymentId() of the chain (rows of other deployments are never returned). */
  deployment: string;
  /** Only vouchers of at least this cumulativeAmount (default 1). */
  minAmount?: bigint;
  /** Only channels updated at or after this time. */
  updatedSince?: Date;
  /** Page size (default 1000, at most 10000) and the last channel id of the previous page (ascending numeric order). */
  limit?: number;
  afterChannelId?: bigint | string;
}

/**
 * Every channel of a deployment holding a voucher worth redeeming, in ascending channel id order
 * (for the voucher keeper, which needs no key-release service: pass the key-release database,
 * `openKeyReleaseDb`). Whether the chain already redeemed it is the keeper's to check
 * (PaymentChannels keeps the redeemed amount); the ledger only keeps the best voucher received.
 */
export async function listRedeemableVouchers(db: SqlClient, query: RedeemableVoucherQuery): Promise<RedeemableVoucher[]> {
  const limit = Math.min(Math.max(1, query.limit ?? 1000), 10_000);
  const rows = await db.query<{ channel_id: string; content_id: string; viewer: string; rate_per_minute: unknown; last_amount: unknown; last_signature: string; delivered_segments: unknown; updated_at: unknown }>(
    `SELECT channel_id, content_id, viewer, rate_per_minute::text AS rate_per_minute, last_amount::text AS last_amount, last_signature, delivered_segments, updated_at
       FROM stream_channels
      WHERE deployment = $1 AND contract = $2 AND last_signature IS NOT NULL AND last_amount >= $3::numeric
        AND ($4::timestamptz IS NULL OR updated_at >= $4::timestamptz)
        AND ($5::numeric IS NULL OR channel_id::numeric > $5::numeric)
      ORDER BY channel_id::numeric
      LIMIT ${limit}`,
    [query.deployment, query.contract.toLowerCase(), (query.minAmount ?? 1n).toString(), query.updatedSince ?? null, query.afterChannelId?.toString() ?? null],
  );
  return rows.rows.map((r) => ({
    channelId: r.channel_id,
    contentId: r.content_id as Hex,
    viewer: r.viewer as Address,
    ratePerMinute: BigInt(String(r.rate_per_minute)),
    cumulativeAmount: BigInt(String(r.last_amount)),
    signature: r.last_signature as Hex,
    deliveredSegments: Number(r.delivered_segments),
    updatedAt: toDate(r.updated_at).toISOString(),
  }));
}

/** `stream_channels` of one PaymentChannels deployment. */
export class StreamLedger {
  readonly #db: SqlClient;
  readonly #channels: ChannelReader;
  #deployment: Promise<string> | undefined;

  constructor(db: SqlClient, channels: ChannelReader) {
    this.#db = db;
    this.#channels = channels;
  }

  /**
   * Releases minute window `minute` on a channel if the voucher pays for it, and keeps the
   * channel's best voucher (for the creator to redeem). A viewer pays for the minutes received on
   * the channel, wherever they are in the item (a late joiner at the live edge, a VOD seek): a
   * minute not yet received needs `rate x (minutes received + 1)`, capped by the deposit; one
   * received before (seeking back, another quality) needs what was paid already, nothing more.
   * One conditional update on the count read, retried when a concurrent request (of any instance)
   * released another minute first, so each minute is paid and counted exactly once.
   */
  async releaseMinute(v: {
    deployment: string;
    contentId: string;
    wallet: Address;
    channelId: string;
    rate: bigint;
    deposit: bigint;
    amount: bigint;
    signature: Hex;
    minute: number;
    now: number;
  }): Promise<{ minutesReleased: number; added: number }> {
    const contract = this.#channels.address.toLowerCase();
    // What the creator can redeem of this voucher: the contract pays out at most the deposit.
    const covered = v.amount < v.deposit ? v.amount : v.deposit;
    for (let attempt = 0; attempt < 8; attempt++) {
      // The first read also creates the row (one round trip). A row another request inserted after
      // this statement's snapshot is not seen by it: the plain read of the next attempt sees it.
      const state = (
        attempt === 0
          ? await this.#db.query<{ released_minutes: number[] }>(
              `WITH created AS (
                 INSERT INTO stream_channels (deployment, contract, channel_id, content_id, viewer, rate_per_minute) VALUES ($6, $1, $2, $3, $4, $5)
                 ON CONFLICT (deployment, contract, channel_id) DO NOTHING
                 RETURNING released_minutes)
               SELECT released_minutes FROM created
               UNION ALL
               SELECT released_minutes FROM stream_channels WHERE deployment = $6 AND contract = $1 AND channel_id = $2`,
              [contract, v.channelId, v.contentId.toLowerCase(), v.wallet, v.rate.toString(), v.deployment],
            )
          : await this.#db.query<{ released_minutes: number[] }>("SELECT released_minutes FROM stream_channels WHERE deployment = $3 AND contract = $1 AND channel_id = $2", [contract, v.channelId, v.deployment])
      ).rows[0];
      if (state === undefined) continue;
      const released = state.released_minutes.map(Number);
      const seen = released.length;
      const again = released.includes(v.minute);
      const count = again ? seen : seen + 1;
      if (!again && v.deposit < v.rate * BigInt(count)) {
        throw new Refusal(402, "deposit_exhausted", `the channel deposit (${v.deposit}) does not cover another minute at ${v.rate} per minute (${seen} received): top up the channel`);
      }
      const required = v.rate * BigInt(count);
      if (covered < required) {
        const why = again
          ? `minute ${v.minute} was received on this channel already; the voucher must still cover the ${seen} minute${seen === 1 ? "" : "s"} received`
          : `minute ${v.minute} would be minute ${count} received on this channel (${seen} so far): it is released once ${count} minute${count === 1 ? " is" : "s are"} paid`;
        throw new Refusal(402, "voucher_too_small", `voucher too small: ${why} (${count} x ${v.rate}): sign cumulativeAmount >= ${required}`, {
          minute: v.minute,
          minutesReceived: seen,
          requiredAmount: required.toString(),
        });
      }
      const updated = await this.#db.query(
        `UPDATE stream_channels
            SET released_minutes = CASE WHEN $4::int = ANY(released_minutes) THEN released_minutes ELSE array_append(released_minutes, $4::int) END,
                delivered_segments = $9,
                last_signature = CASE WHEN $3::numeric > last_amount THEN $5 ELSE last_signature END,
                last_amount = GREATEST(last_amount, $3::numeric),
                updated_at = $6
          WHERE deployment = $8 AND contract = $1 AND channel_id = $2 AND cardinality(released_minutes) = $7
          RETURNING delivered_segments`,
        [contract, v.channelId, v.amount.toString(), v.minute, v.signature, new Date(v.now), seen, v.deployment, count * SEGMENTS_PER_MINUTE],
      );
      if (updated.rows.length > 0) return { minutesReleased: count, added: again ? 0 : SEGMENTS_PER_MINUTE };
    }
    throw new Refusal(409, "concurrent_request", "too many requests for this channel at once: retry");
  }

  /** The best voucher kept for each of these channels on this deployment (the creator's studio lists them for redemption); channels never streamed here are left out. */
  async bestVouchers(channelIds: readonly (bigint | string)[]): Promise<BestVoucher[]> {
    if (channelIds.length === 0) return [];
    const rows = await this.#db.query<{ channel_id: string; last_amount: unknown; last_signature: string | null; delivered_segments: unknown; updated_at: unknown }>(
      "SELECT channel_id, last_amount::text AS last_amount, last_signature, delivered_segments, updated_at FROM stream_channels WHERE deployment = $3 AND contract = $1 AND channel_id = ANY($2::text[]) ORDER BY channel_id",
      [this.#channels.address.toLowerCase(), channelIds.map((id) => id.toString()), await this.deployment()],
    );
    return rows.rows.map((r) => ({
      channelId: r.channel_id,
      cumulativeAmount: BigInt(String(r.last_amount)),
      signature: (r.last_signature ?? null) as Hex | null,
      deliveredSegments: Number(r.delivered_segments),
      updatedAt: toDate(r.updated_at).toISOString(),
    }));
  }

  /** {@link listRedeemableVouchers} of this deployment. */
  async listRedeemableVouchers(query: Omit<RedeemableVoucherQuery, "contract" | "deployment"> = {}): Promise<RedeemableVoucher[]> {
    return listRedeemableVouchers(this.#db, { ...query, contract: this.#channels.address, deployment: await this.deployment() });
  }

  /**
   * The deployment stream_channels rows are kept under (ChannelReader.deploymentId), read once.
   * Rows written before deployments were recorded ('') are assigned to the first one seen: they
   * come from the chain this database was used with, and a recreated dev chain wipes the database
   * (scripts/dev.ts), so no unredeemed voucher is dropped by the upgrade.
   */
  deployment(): Promise<string> {
    this.#deployment ??= (async () => {
      const id = await this.#channels.deploymentId();
      await this.#db.query(
        `UPDATE stream_channels SET deployment = $1
          WHERE deployment = '' AND contract = $2
            AND NOT EXISTS (SELECT 1 FROM stream_channels other WHERE other.deployment = $1 AND other.contract = stream_channels.contract AND other.channel_id = stream_channels.channel_id)`,
        [id, this.#channels.address.toLowerCase()],
      );
      return id;
    })().catch((error: unknown) => {
      this.#deployment = undefined;
      throw error;
    });
    return this.#deployment;
  }
}

export interface StreamParts {
  sessions: Sessions;
  limits: RequestLimits;
  origins: ReadonlySet<string>;
  channels: ChannelReader;
  ledger: StreamLedger;
  keys: ContentKeys;
  wrapper: KeyWrapper;
  plays: PlayLedger;
  audit: AuditLog;
  log: Logger;
  now: () => number;
  /** A channel must stay open at least this long after a release, ms. */
  channelMarginMs: number;
}

/**
 * `POST /api/keys/:contentId/stream` {channelId, cumulativeAmount, signature, ephemeralPublicKey, minute, variants}
 * -> the keys of minute window `minute` (one per variant), against a voucher paying for every
 * minute received on the channel, this one included ({@link StreamLedger.releaseMinute}).
 *
 * Never the content key: the segments of minute-keyed variants (manifest version 2) are each
 * sealed under their minute's key, so what is released decrypts that minute and nothing else.
 * A viewer who joins a live stream at minute 30, or seeks a VOD to minute 10, pays 1 x rate for
 * the first minute received, 2 x rate with the second, and so on: the creator holds payment for
 * every released minute.
 */
export async function streamKey(p: StreamParts, request: Request): Promise<Response> {
  const ip = p.limits.ip(request);
  const contentIdParam = pathParam(request, /\/api\/keys\/([^/]+)\/stream\/?$/);
  let wallet: Address | null = null;
  let channelIdText: string | null = null;
  try {
    const opened = await openKeyRequest(p, request, contentIdParam, (w) => (wallet = w));
    const { body, contentId } = opened;
    wallet = opened.wallet;
    const channelId = parseUint(body.channelId);
    const amount = parseUint(body.cumulativeAmount);
    const signature = body.signature;
    if (channelId === undefined || amount === undefined || typeof signature !== "string" || !isHex(signature) || size(signature) !== 65) {
      throw new Refusal(400, "bad_voucher", "send JSON {channelId: decimal string, cumulativeAmount: decimal string, signature: 65-byte 0x-hex EIP-712 Voucher signature, ephemeralPublicKey, minute, variants}");
    }
    channelIdText = channelId.toString();
    const minute = body.minute;
    if (typeof minute !== "number" || !Number.isSafeInteger(minute) || minute < 0 || minute > MAX_MINUTE) {
      throw new Refusal(400, "bad_minute", `send minute: the minute window (0..${MAX_MINUTE}) whose keys you need; minute m covers the segments starting in [60m, 60m+60) s (manifest segments[].minute)`);
    }
    const variants = body.variants;
    if (!Array.isArray(variants) || variants.length === 0 || variants.length > MAX_STREAM_VARIANTS || !variants.every((v) => typeof v === "string" && VARIANT_NAME.test(v)) || new Set(variants).size !== variants.length) {
      throw new Refusal(400, "bad_variants", `send variants: 1..${MAX_STREAM_VARIANTS} distinct variant names (the manifest's minute-keyed variants you may play)`);
    }
    const clientKey = await p.wrapper.parse(body.ephemeralPublicKey);

    let channel: ChannelState | undefined;
    let deployment: string;
    try {
      [channel, deployment] = await Promise.all([p.channels.read(channelId), p.ledger.deployment()]);
    } catch (error) {
      p.log.warn("channel read failed", { channelId: channelIdText, error: String(error) });
      throw new Refusal(503, "chain_unavailable", "could not read the channel from the chain: try again shortly");
    }
    const now = p.now();
    if (channel === undefined) throw new Refusal(404, "unknown_channel", `channel ${channelId} does not exist: open a channel first`);
    if (channel.contentId.toLowerCase() !== contentId.toLowerCase()) {
      throw new Refusal(403, "wrong_content", `channel ${channelId} pays for content ${channel.contentId}, not this one: open a channel for this content`);
    }
    if (channel.viewer !== wallet) throw new Refusal(403, "not_your_channel", `channel ${channelId} belongs to another wallet: sign in as its viewer`);
    if (channel.status !== "open") throw new Refusal(403, "channel_not_open", `channel ${channelId} is ${channel.status}: open a new channel`);
    if (channel.closesAt * 1000 <= now) throw new Refusal(403, "channel_expired", `channel ${channelId} expired: open a new channel`);
    if (channel.closesAt * 1000 <= now + p.channelMarginMs) {
      throw new Refusal(403, "channel_closing_soon", `channel ${channelId} closes too soon for the creator to redeem: extend it with topUp or open a new channel`);
    }

    // The voucher is checked, and kept, in the form the contract verifies (v 27/28, low s).
    let signer: Address;
    let voucherSignature: Hex;
    try {
      ({ signer, signature: voucherSignature } = await p.channels.signerOf({ channelId, cumulativeAmount: amount, signature: signature as Hex }));
    } catch (error) {
      const why = error instanceof VoucherSignatureError ? error.message : "voucher signature is malformed: sign the EIP-712 Voucher with the viewer wallet or its session key";
      throw new Refusal(403, "bad_voucher_signature", why);
    }
    if (signer !== channel.viewer) {
      const sk = channel.sessionKey;
      if (sk === null || sk.key !== signer) {
        throw new Refusal(403, "bad_voucher_signature", "voucher is not signed by the channel's viewer or its session key: sign with one of them");
      }
      if (sk.expiresAt * 1000 < now) throw new Refusal(403, "session_key_expired", "the channel's session key has expired: sign vouchers with the viewer wallet or authorise a new key");
      if (amount > sk.spendingCap) throw new Refusal(402, "over_spending_cap", `voucher exceeds the session key's spending cap of ${sk.spendingCap}: top up and authorise a new key, or sign with the viewer wallet`);
    }

    // Paid and recorded before any key is derived: a minute is released once, against a voucher covering it.
    const rate = channel.ratePerMinute;
    const { minutesReleased, added } = await p.ledger.releaseMinute({
      deployment,
      contentId,
      wallet,
      channelId: channelIdText,
      rate,
      deposit: channel.deposit,
      amount,
      signature: voucherSignature,
      minute,
      now,
    });

    const contentKey = await p.keys.get(contentId);
    const keys: StreamMinuteKey[] = [];
    try {
      for (const variant of variants as string[]) {
        const minuteKey = deriveMinuteKey(contentKey, contentId, variant, minute);
        try {
          const label = minuteKeyLabel(variant, minute);
          keys.push({ variant, minute, keyId: keyIdOf(minuteKey), wrapped: await p.wrapper.wrap(minuteKey, clientKey, contentId, wallet, label) });
        } finally {
          minuteKey.fill(0);
        }
      }
    } finally {
      contentKey.fill(0);
    }
    const playStart = await p.plays.claimStart(wallet.toLowerCase(), contentId, now);
    await p.audit.writeWithPlay(
      {
        event: "stream-release",
        outcome: "allowed",
        wallet,
        ip,
        contentId,
        channelId: channelIdText,
        reason: signer === channel.viewer ? "voucher" : "session-key-voucher",
        detail: { cumulativeAmount: amount.toString(), minute, variants, minutesDelivered: minutesReleased, signer },
      },
      // Segment plays count each minute window once per channel (~6 segments of 10 s), however many variants or repeats.
      { contentId, wallet, kind: "segment", segments: added, at: new Date(now), viewer: wallet.toLowerCase(), playStart },
    );
    p.log.info("stream minute released", { contentId, wallet, channelId: channelIdText, minute, variants: variants.length });
    const response: StreamReleaseResponse = {
      contentId: contentId as Hex,
      wallet,
      channelId: channelIdText,
      minute,
      minutesDelivered: minutesReleased,
      ratePerMinute: rate.toString(),
      nextVoucherMinimum: (rate * BigInt(minutesReleased + 1)).toString(),
      keys,
    };
    return json(200, response);
  } catch (error) {
    await p.audit.denial(error, { event: "stream-release", wallet, ip, contentId: contentIdParam ?? null, channelId: channelIdText });
    return failure(p.log, error, "stream");
  }
}
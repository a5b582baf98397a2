"use client";
/**
 * Where the player gets the key of each encrypted segment. One decryption path for every way in:
 * the fragment loader asks a SegmentKeySource for the AES-GCM key of (variant, segment) and
 * decrypts with it.
 *
 * - Full access (pass, coin, subscription, purchase, creator): the content key from
 *   `POST /api/keys/:id`; "content"-keyed variants (every version-1 manifest) use it as is,
 *   "minute-hkdf" variants derive each minute window's key from it here (lib/crypto/minute.ts).
 * - Pay per minute: the server never hands out the content key, only minute keys, each against a
 *   voucher covering the minutes before it. The source asks for minute m's keys (every
 *   minute-keyed variant the player may switch to, in one request) the first time a segment of
 *   minute m is loaded, which hls.js does one buffer length (at most 30 s in this mode) before
 *   playback reaches it; concurrent asks for one minute share one request.
 */
import type { ManifestSegment, ManifestVariant } from "@streamvault/lib/browser";
import { deriveMinuteCryptoKey, importMinuteKeyBase } from "@streamvault/lib/browser";

export interface SegmentKeySource {
  /** The AES-GCM key that decrypts `segment` of `variant` (may fetch or pay for it first). */
  keyFor(variant: ManifestVariant, segment: ManifestSegment): Promise<CryptoKey>;
  /** Whether this source can decrypt `variant` at all. */
  canDecrypt(variant: ManifestVariant): boolean;
}

function isMinuteKeyed(variant: ManifestVariant): boolean {
  return variant.encrypted && variant.keyScheme === "minute-hkdf";
}

/** Keys from the content key (full access). */
export class ContentKeySource implements SegmentKeySource {
  readonly #contentId: string;
  readonly #aes: CryptoKey;
  readonly #base: CryptoKey;
  readonly #minutes = new Map<string, Promise<CryptoKey>>();

  private constructor(contentId: string, aes: CryptoKey, base: CryptoKey) {
    this.#contentId = contentId;
    this.#aes = aes;
    this.#base = base;
  }

  /** Imports the raw content key twice (AES-GCM and HKDF, both non-extractable) and wipes the bytes. */
  static async fromBytes(contentId: string, raw: Uint8Array): Promise<ContentKeySource> {
    try {
      const aes = await crypto.subtle.importKey("raw", raw as BufferSource, { name: "AES-GCM" }, false, ["decrypt"]);
      const base = await importMinuteKeyBase(raw);
      return new ContentKeySource(contentId, aes, base);
    } finally {
      raw.fill(0);
    }
  }

  canDecrypt(variant: ManifestVariant): boolean {
    return variant.encrypted;
  }

  keyFor(variant: ManifestVariant, segment: ManifestSegment): Promise<CryptoKey> {
    if (!isMinuteKeyed(variant)) return Promise.resolve(this.#aes);
    const minute = segment.minute ?? 0;
    const id = `${variant.name}/${minute}`;
    let key = this.#minutes.get(id);
    if (key === undefined) {
      key = deriveMinuteCryptoKey(this.#base, this.#contentId, variant.name, minute);
      this.#minutes.set(id, key);
    }
    return key;
  }
}

/** Pays for (and fetches) the keys of one minute window: variant name -> AES-GCM key. */
export type MinuteKeyFetcher = (minute: number, variants: string[]) => Promise<Map<string, CryptoKey>>;

/** Variants one minute request may name (the key-release server's limit per /stream request). */
const MAX_VARIANTS_PER_REQUEST = 8;

/**
 * For an album (every track's variants in `variants`): the variants with a segment in each minute
 * window of the album's timeline, so a minute is asked for with the keys of every track it covers
 * (track 1's end and track 2's start can share a minute) and never with tracks it does not.
 */
export function variantsByMinute(manifest: { variants: readonly ManifestVariant[] }, variants: readonly string[]): (minute: number) => string[] {
  const byMinute = new Map<number, string[]>();
  for (const v of manifest.variants) {
    if (!variants.includes(v.name)) continue;
    for (const m of new Set(v.segments.map((s) => s.minute ?? 0))) byMinute.set(m, [...(byMinute.get(m) ?? []), v.name]);
  }
  return (minute) => byMinute.get(minute) ?? [];
}

/** Keys of minute windows released one at a time against vouchers (pay per minute). */
export class MinuteKeySource implements SegmentKeySource {
  readonly #fetch: MinuteKeyFetcher;
  readonly #variants: string[];
  readonly #variantsOf: ((minute: number) => string[]) | undefined;
  readonly #minutes = new Map<number, Promise<Map<string, CryptoKey>>>();

  /**
   * @param variants names of every minute-keyed variant the player may play (fetched together).
   * @param variantsOf which of them a minute's request names (an album: the tracks in that minute, {@link variantsByMinute}); default all.
   */
  constructor(fetch: MinuteKeyFetcher, variants: string[], variantsOf?: (minute: number) => string[]) {
    this.#fetch = fetch;
    this.#variants = variants;
    this.#variantsOf = variantsOf;
  }

  canDecrypt(variant: ManifestVariant): boolean {
    return isMinuteKeyed(variant) && this.#variants.includes(variant.name);
  }

  /** Minutes asked for so far, in order. */
  get minutes(): number[] {
    return [...this.#minutes.keys()];
  }

  async keyFor(variant: ManifestVariant, segment: ManifestSegment): Promise<CryptoKey> {
    if (!this.canDecrypt(variant) || segment.minute === undefined) throw new Error(`variant ${variant.name} is not keyed per minute: it cannot be streamed pay-per-minute`);
    const keys = await this.minute(segment.minute);
    const key = keys.get(variant.name);
    if (key === undefined) throw new Error(`no key for minute ${segment.minute} of ${variant.name}`);
    return key;
  }

  /** The keys of minute `minute` (one request per minute; a failed request may be retried). */
  minute(minute: number): Promise<Map<string, CryptoKey>> {
    let keys = this.#minutes.get(minute);
    if (keys === undefined) {
      keys = this.#fetchAll(minute);
      keys.catch(() => this.#minutes.delete(minute));
      this.#minutes.set(minute, keys);
    }
    return keys;
  }

  /** One request per minute; more variants than one request may name go in further requests (paid once: the minute is received already). */
  async #fetchAll(minute: number): Promise<Map<string, CryptoKey>> {
    const named = this.#variantsOf?.(minute) ?? [];
    const names = named.length > 0 ? named : this.#variants;
    const keys = new Map<string, CryptoKey>();
    for (let i = 0; i < names.length; i += MAX_VARIANTS_PER_REQUEST) {
      for (const [name, key] of await this.#fetch(minute, names.slice(i, i + MAX_VARIANTS_PER_REQUEST))) keys.set(name, key);
    }
    return keys;
  }
}

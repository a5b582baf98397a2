/** Small helpers shared by the handlers and the API (pure functions of event data). */

import { cidFromBytes } from "@streamvault/lib/chain/cid.ts";

export type Hex = `0x${string}`;

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as const;
export const ZERO_BYTES32 = `0x${"0".repeat(64)}` as const;

/** Lowercase hex: the form every address and hash takes in the tables. */
export function lc<T extends string>(value: T): Hex {
  return value.toLowerCase() as Hex;
}

/** UTC day of a block timestamp: key and start of the daily tables. */
export function dayOf(timestamp: bigint): { day: string; dayStart: bigint } {
  const dayStart = (timestamp / 86_400n) * 86_400n;
  return { day: new Date(Number(dayStart) * 1000).toISOString().slice(0, 10), dayStart };
}

/**
 * The string form of a binary CID (multibase base32, the "b..." form PieceCIDs are written in).
 * Returns "" for empty input.
 */
export function cidToString(bytes: Hex): string {
  return cidFromBytes(bytes);
}

export { ROLE_NAMES, TIER_NAMES, TRIGGER_NAMES } from "@streamvault/lib/deployments/contract-types.ts";

export function nameOf(names: readonly string[], value: number): string {
  return names[value] ?? `unknown(${value})`;
}

/** JSON.stringify replacer that writes bigints as decimal strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

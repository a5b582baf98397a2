/**
 * The studio tools' lists, parsed and checked row by row: coin distributions ("address, amount" per
 * line, as typed or pasted from a CSV with an optional header) and pass airdrops (addresses). Each
 * problem names its row, so the creator fixes that line and nothing else.
 */
import { getAddress, isAddress, parseUnits, type Address } from "viem";

export interface RowError {
  row: number;
  message: string;
}

export type Parsed<T> = { ok: true; value: T; total: bigint } | { ok: false; errors: RowError[] };

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line, i) => ({ row: i + 1, line: line.trim() }))
    .filter((l) => l.line !== "");

/** One "address, amount" (comma, semicolon, tab or spaces) per line; amounts in whole coins (18 decimals). */
export function parseDistribution(text: string, reserve: bigint, decimals = 18): Parsed<{ recipients: Address[]; amounts: bigint[] }> {
  const errors: RowError[] = [];
  const recipients: Address[] = [];
  const amounts: bigint[] = [];
  let total = 0n;
  for (const { row, line } of lines(text)) {
    const [address = "", amount = "", ...rest] = line.split(/\s*[,;\t]\s*|\s+/);
    if (row === 1 && !address.startsWith("0x") && !/^\d/.test(amount)) continue; // a CSV header such as "address,amount"
    if (rest.length > 0 || !amount) {
      errors.push({ row, message: `row ${row}: write "address, amount" (got "${line}")` });
      continue;
    }
    if (!isAddress(address, { strict: false })) {
      errors.push({ row, message: `row ${row}: "${address}" is not an address (0x and 40 hex characters)` });
      continue;
    }
    let value: bigint;
    try {
      if (!/^-?\d+(\.\d+)?$/.test(amount)) throw new Error();
      value = parseUnits(amount, decimals);
    } catch {
      errors.push({ row, message: `row ${row}: "${amount}" is not a number of coins` });
      continue;
    }
    if (value <= 0n) {
      errors.push({ row, message: `row ${row}: the amount must be more than 0` });
      continue;
    }
    total += value;
    if (total > reserve) errors.push({ row, message: `row ${row}: brings the total past the coins left in your reserve` });
    recipients.push(getAddress(address));
    amounts.push(value);
  }
  if (errors.length) return { ok: false, errors };
  if (recipients.length === 0) return { ok: false, errors: [{ row: 0, message: "add at least one row: address, amount" }] };
  return { ok: true, value: { recipients, amounts }, total };
}

/** Addresses, one per line (or separated by commas or spaces); at most `remaining` of them (passes left to mint). */
export function parseAirdrop(text: string, remaining: bigint): Parsed<Address[]> {
  const errors: RowError[] = [];
  const out: Address[] = [];
  for (const { row, line } of lines(text)) {
    for (const address of line.split(/[\s,;]+/).filter(Boolean)) {
      if (!isAddress(address, { strict: false })) errors.push({ row, message: `row ${row}: "${address}" is not an address (0x and 40 hex characters)` });
      else out.push(getAddress(address));
    }
  }
  if (BigInt(out.length) > remaining) errors.push({ row: 0, message: `${out.length} passes, but only ${remaining} are left to mint` });
  if (errors.length) return { ok: false, errors };
  if (out.length === 0) return { ok: false, errors: [{ row: 0, message: "add at least one address" }] };
  return { ok: true, value: out, total: BigInt(out.length) };
}

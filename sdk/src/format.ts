import { formatUnits, type Address } from "viem";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as Address;
export const NO_EXPIRY = 2n ** 64n - 1n;
export const REASONS = ["none", "creator", "free", "coin", "pass", "subscription", "purchase"] as const;
export const REASON_LABEL: Record<string, string> = {
  none: "No access",
  creator: "You are the creator",
  free: "Free for everyone",
  coin: "Coin holder",
  pass: "Pass holder",
  subscription: "Premium subscription",
  purchase: "30-day pass",
};

export function shortAddress(a: string): string {
  return `${a.slice(0, 6)}…${a.slice(-4)}`;
}

export function tokenSymbol(token: string, stable?: string): string {
  if (token.toLowerCase() === ZERO_ADDRESS) return "ETH";
  if (stable && token.toLowerCase() === stable.toLowerCase()) return "USD";
  return shortAddress(token);
}

/** Native currency and creator coins have 18 decimals; the stablecoin has 6. */
export function tokenDecimals(token: string, stable?: string): number {
  return stable && token.toLowerCase() === stable.toLowerCase() ? 6 : 18;
}

export function formatAmount(amount: bigint | string, token: string, stable?: string): string {
  const v = typeof amount === "string" ? BigInt(amount) : amount;
  const n = Number(formatUnits(v, tokenDecimals(token, stable)));
  const digits = n !== 0 && n < 0.01 ? 6 : 4;
  return `${n.toLocaleString("en-US", { maximumFractionDigits: digits })} ${tokenSymbol(token, stable)}`;
}

export function formatExpiry(expiresAt: bigint | number | string): string {
  const v = BigInt(expiresAt);
  if (v === 0n) return "—";
  if (v >= NO_EXPIRY) return "while you hold it";
  return new Date(Number(v) * 1000).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";
}

export function formatDuration(seconds: number): string {
  if (!seconds) return "";
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** "30-day", "12-hour": for labels like "30-day pass". */
export function periodLabel(seconds: number): string {
  const d = seconds / 86400;
  return Number.isInteger(d) ? `${d}-day` : `${Math.round(seconds / 3600)}-hour`;
}

export function daysOf(seconds: number): string {
  const d = seconds / 86400;
  return Number.isInteger(d) ? `${d} days` : `${(seconds / 3600).toFixed(0)} hours`;
}

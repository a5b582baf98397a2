import { formatUnits, type Address } from "viem";

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as Address;
export const NO_EXPIRY = 2n ** 64n - 1n;
/** ContentAccess.Reason by on-chain value. */
export { REASON_NAMES as REASONS } from "@streamvault/lib/browser";
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

/** The ways a release can be unlocked, for a release row: "30-day pass 0.002 ETH · in the subscription · 1 pass". */
export function accessSummary(
  tier: string,
  rules: { price: string; paymentToken: string; duration: number; inSubscription: boolean; minPasses: string; minCoinBalance: string },
  stable?: string,
): string {
  if (tier === "free") return "free for everyone";
  const ways: string[] = [];
  if (BigInt(rules.price) > 0n) ways.push(`${periodLabel(rules.duration || 30 * 86400)} pass ${formatAmount(rules.price, rules.paymentToken, stable)}`);
  if (rules.inSubscription) ways.push("in the subscription");
  const passes = BigInt(rules.minPasses);
  if (passes > 0n) ways.push(`${passes} creator pass${passes > 1n ? "es" : ""}`);
  if (BigInt(rules.minCoinBalance) > 0n) ways.push(`${formatAmount(rules.minCoinBalance, "coin").replace(/ .*/, "")} coins`);
  return ways.length > 0 ? ways.join(" · ") : "not on sale";
}

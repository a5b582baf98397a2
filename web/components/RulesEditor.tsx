"use client";
import { z } from "zod";
import { formatEther, formatUnits, parseEther, parseUnits, type Address } from "viem";
import { ZERO_ADDRESS } from "@/lib/client/format";

export interface RulesForm {
  price: string;
  currency: "native" | "stable";
  days: string;
  inSubscription: boolean;
  minPasses: string;
  minCoins: string;
  /** Pay-per-minute price in the same currency (PaymentChannels.setStreamPrice); 0 = not offered per minute. */
  pricePerMinute: string;
}

export const DEFAULT_RULES_FORM: RulesForm = { price: "0.002", currency: "native", days: "30", inSubscription: true, minPasses: "0", minCoins: "0", pricePerMinute: "0" };

/** The form for rules already on chain (to edit them); the per-minute price comes from `PaymentChannels.streamPrice`. */
export function formFromRules(
  r: { price: string; paymentToken: string; duration: number; inSubscription: boolean; minPasses: string; minCoinBalance: string },
  stable?: string,
  streamPrice?: { token: string; ratePerMinute: bigint },
): RulesForm {
  const isStable = Boolean(stable) && r.paymentToken.toLowerCase() === stable!.toLowerCase();
  return {
    pricePerMinute: streamPrice ? formatRate(streamPrice.ratePerMinute, streamPrice.token, stable) : "0",
    price: isStable ? formatUnits(BigInt(r.price), 6) : formatEther(BigInt(r.price)),
    currency: isStable ? "stable" : "native",
    days: String(r.duration === 0 ? 30 : Math.max(1, Math.round(r.duration / 86400))), // 0 = the contract's 30 days
    inSubscription: r.inSubscription,
    minPasses: r.minPasses,
    minCoins: formatEther(BigInt(r.minCoinBalance)),
  };
}

function formatRate(rate: bigint, token: string, stable?: string): string {
  return stable && token.toLowerCase() === stable.toLowerCase() ? formatUnits(rate, 6) : formatEther(rate);
}

const Schema = z.object({
  pricePerMinute: z.string().trim().regex(/^\d+(\.\d{1,18})?$/, "price per minute must be a number like 0.0001 (0 = not offered)"),
  price: z.string().trim().regex(/^\d+(\.\d{1,18})?$/, "price must be a number like 0.002"),
  days: z.string().trim().regex(/^\d+$/, "days must be a whole number").refine((d) => Number(d) >= 1 && Number(d) <= 365, "days must be 1-365"),
  minPasses: z.string().trim().regex(/^\d+$/, "passes must be a whole number"),
  minCoins: z.string().trim().regex(/^\d+(\.\d+)?$/, "coins must be a number"),
});

export function rulesFromForm(form: RulesForm, stable?: Address) {
  const r = Schema.safeParse(form);
  if (!r.success) return { ok: false as const, error: r.error.issues[0]!.message };
  const token = form.currency === "stable" && stable ? stable : ZERO_ADDRESS;
  const price = token === ZERO_ADDRESS ? parseEther(form.price) : parseUnits(form.price, 6);
  if (price >= 2n ** 96n) return { ok: false as const, error: "price is too large" };
  return {
    ok: true as const,
    rules: {
      minCoinBalance: parseEther(form.minCoins),
      minPasses: BigInt(form.minPasses),
      inSubscription: form.inSubscription,
      paymentToken: token,
      price,
      duration: Number(form.days) * 86400,
    },
  };
}

/**
 * The per-minute price for `PaymentChannels.setStreamPrice(contentId, token, ratePerMinute)`, in the
 * form's currency (rate 0 = not offered per minute).
 */
export function streamPriceFromForm(form: RulesForm, stable?: Address) {
  const r = Schema.shape.pricePerMinute.safeParse(form.pricePerMinute);
  if (!r.success) return { ok: false as const, error: r.error.issues[0]!.message };
  const token = form.currency === "stable" && stable ? stable : ZERO_ADDRESS;
  let ratePerMinute: bigint;
  try {
    ratePerMinute = token === ZERO_ADDRESS ? parseEther(r.data) : parseUnits(r.data, 6);
  } catch {
    return { ok: false as const, error: "price per minute must be a number like 0.0001 (0 = not offered)" };
  }
  if (ratePerMinute >= 2n ** 96n) return { ok: false as const, error: "price per minute is too large" };
  return { ok: true as const, token, ratePerMinute };
}

export function RulesEditor({ value, onChange }: { value: RulesForm; onChange: (v: RulesForm) => void }) {
  const set = (k: keyof RulesForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    onChange({ ...value, [k]: e.target instanceof HTMLInputElement && e.target.type === "checkbox" ? e.target.checked : e.target.value });
  return (
    <fieldset className="form" style={{ border: "1px solid #2c2c40", borderRadius: 12, padding: 12, marginTop: 12 }}>
      <legend>Access rules</legend>
      <label>
        Price (0 = not for sale)
        <input value={value.price} onChange={set("price")} inputMode="decimal" name="price" />
      </label>
      <label>
        Currency
        <select value={value.currency} onChange={set("currency")}>
          <option value="native">ETH</option>
          <option value="stable">Stablecoin</option>
        </select>
      </label>
      <label>
        Price per minute, pay-per-minute streaming (0 = not offered)
        <input value={value.pricePerMinute} onChange={set("pricePerMinute")} inputMode="decimal" name="pricePerMinute" data-testid="price-per-minute" />
      </label>
      <label>
        Access period (days)
        <input value={value.days} onChange={set("days")} inputMode="numeric" name="days" />
      </label>
      <label>
        Passes that unlock (0 = none)
        <input value={value.minPasses} onChange={set("minPasses")} inputMode="numeric" name="minPasses" />
      </label>
      <label>
        Coins that unlock (0 = none)
        <input value={value.minCoins} onChange={set("minCoins")} inputMode="decimal" name="minCoins" />
      </label>
      <label style={{ flexDirection: "row", alignItems: "center", gap: 8 }}>
        <input type="checkbox" checked={value.inSubscription} onChange={set("inSubscription")} style={{ minHeight: 0 }} />
        Included in the premium subscription
      </label>
    </fieldset>
  );
}

"use client";
import { useState } from "react";
import { z } from "zod";
import { useConfig } from "wagmi";
import { writeContract } from "wagmi/actions";
import { parseEther, parseUnits } from "viem";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";

const symbol = z.string().trim().regex(/^[A-Z0-9]{2,8}$/, "2-8 capital letters or digits");
const name = z.string().trim().min(2, "at least 2 characters").max(40, "at most 40 characters");
const decimal = z.string().trim().regex(/^\d+(\.\d+)?$/, "a number, e.g. 1000 or 0.01");

export const LaunchSchema = z
  .object({
    coinName: name,
    coinSymbol: symbol,
    coinSupply: z.string().trim().regex(/^[1-9]\d{0,17}$/, "a whole number of coins, at least 1"),
    creatorPercent: z.coerce.number().int("whole percent").min(0, "0-100").max(100, "0-100"),
    passName: name,
    passSymbol: symbol,
    passMaxSupply: z.coerce.number().int("whole number").min(1, "at least 1").max(1_000_000, "at most 1,000,000"),
    passPrice: decimal,
    royaltyPercent: z.coerce.number().min(0, "0-25").max(25, "at most 25% (contract limit)"),
    mintEnabled: z.boolean(),
    profileUri: z.string().trim().max(200, "at most 200 characters"),
  })
  .refine((v) => v.coinSymbol !== v.passSymbol, { path: ["passSymbol"], message: "pick a symbol different from the coin's" });

type Values = z.input<typeof LaunchSchema>;

const DEFAULTS: Values = {
  coinName: "",
  coinSymbol: "",
  coinSupply: "1000000",
  creatorPercent: 20,
  passName: "",
  passSymbol: "",
  passMaxSupply: 1000,
  passPrice: "0.01",
  royaltyPercent: 5,
  mintEnabled: true,
  profileUri: "",
};

export function LaunchForm({ onLaunched }: { onLaunched: () => void }) {
  const wagmi = useConfig();
  const { contracts, chainId } = useAppConfig();
  const contract = useContracts();
  const [values, setValues] = useState<Values>(DEFAULTS);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const tx = useTx(onLaunched);
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";

  const set = (k: keyof Values) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setValues((v) => ({ ...v, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.value }));

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const parsed = LaunchSchema.safeParse(values);
    if (!parsed.success) {
      const errs: Record<string, string> = {};
      for (const issue of parsed.error.issues) errs[String(issue.path[0])] ??= issue.message;
      setErrors(errs);
      return;
    }
    setErrors({});
    const v = parsed.data;
    const supply = parseUnits(v.coinSupply, 18);
    void tx.run("Launch", () =>
      writeContract(wagmi, {
        ...contract("CreatorRegistry"),
        functionName: "launchCreator",
        args: [
          { name: v.coinName, symbol: v.coinSymbol, supply, creatorAllocation: (supply * BigInt(v.creatorPercent)) / 100n },
          {
            name: v.passName,
            symbol: v.passSymbol,
            maxSupply: BigInt(v.passMaxSupply),
            mintPrice: parseEther(v.passPrice),
            mintEnabled: v.mintEnabled,
            royaltyBps: Math.round(v.royaltyPercent * 100),
          },
          v.profileUri,
        ],
        chainId,
      }),
    );
  }

  const field = (k: keyof Values, label: string, props: React.InputHTMLAttributes<HTMLInputElement> = {}) => (
    <label>
      {label}
      <input
        name={k}
        value={String(values[k])}
        onChange={set(k)}
        aria-invalid={Boolean(errors[k])}
        aria-describedby={errors[k] ? `${k}-err` : undefined}
        {...props}
      />
      {errors[k] && (
        <span id={`${k}-err`} className="field-error">
          {errors[k]}
        </span>
      )}
    </label>
  );

  return (
    <form onSubmit={submit} noValidate aria-labelledby="launch-h" data-testid="launch-form">
      <h2 id="launch-h">Launch your coin and pass</h2>
      <p className="small muted">One transaction creates your ERC-20 coin and your NFT pass.</p>
      <div className="form">
        <fieldset>
          <legend>Coin</legend>
          {field("coinName", "Name", { placeholder: "Nova Sound" })}
          {field("coinSymbol", "Symbol", { placeholder: "NOVA" })}
          {field("coinSupply", "Total supply", { inputMode: "numeric" })}
          {field("creatorPercent", "Your allocation (%)", { inputMode: "numeric" })}
        </fieldset>
        <fieldset>
          <legend>Pass</legend>
          {field("passName", "Name", { placeholder: "Nova Backstage" })}
          {field("passSymbol", "Symbol", { placeholder: "NOVAP" })}
          {field("passMaxSupply", "Supply cap", { inputMode: "numeric" })}
          {field("passPrice", "Mint price (ETH)", { inputMode: "decimal" })}
          {field("royaltyPercent", "Royalty (%)", { inputMode: "decimal" })}
          <label style={{ flexDirection: "row", alignItems: "center", gap: 8 }}>
            <input type="checkbox" name="mintEnabled" checked={Boolean(values.mintEnabled)} onChange={set("mintEnabled")} style={{ minHeight: 0 }} />
            Open minting now
          </label>
        </fieldset>
      </div>
      <div style={{ marginTop: 12 }}>{field("profileUri", "Profile URI (optional)", { placeholder: "ipfs://… or https://…" })}</div>
      <p>
        <button className="btn primary" type="submit" disabled={busy} data-testid="launch-submit">
          {busy ? "Launching…" : "Launch"}
        </button>
      </p>
      <TxStatus state={tx.state} />
    </form>
  );
}

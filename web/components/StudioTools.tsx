"use client";
/**
 * Creator tools: hand out coins from the reserve (`CreatorCoin.distribute`), airdrop passes
 * (`CreatorPass.airdrop`), open or close minting and set the pass price (`CreatorPass.setMintConfig`).
 * Lists are checked row by row before anything is sent, and each action shows its gas cost first.
 */
import { useState } from "react";
import { useConfig, useReadContract, useReadContracts } from "wagmi";
import { writeContract } from "wagmi/actions";
import { formatEther, parseEther, type Abi, type Address } from "viem";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { useTx } from "@/lib/client/useTx";
import { parseAirdrop, parseDistribution, type RowError } from "@/lib/client/distribution";
import { ZERO_ADDRESS, formatAmount } from "@/lib/client/format";
import { TxStatus } from "./TxStatus";
import { GasEstimate, type ContractCall } from "./GasEstimate";

function RowErrors({ errors, testId }: { errors: RowError[]; testId: string }) {
  if (errors.length === 0) return null;
  return (
    <ul className="row-errors field-error small" data-testid={testId} role="alert">
      {errors.map((e) => (
        <li key={`${e.row}-${e.message}`}>{e.message}</li>
      ))}
    </ul>
  );
}

export function StudioTools({ creator, coin }: { creator: Address; coin: Address }) {
  const contract = useContracts();
  const passOf = useReadContract({ ...contract("CreatorRegistry"), functionName: "passOf", args: [creator] });
  const pass = passOf.data && passOf.data !== ZERO_ADDRESS ? passOf.data : undefined;
  const reads = useReadContracts({
    contracts: [
      { ...contract("CreatorCoin", coin), functionName: "reserve" },
      { ...contract("CreatorCoin", coin), functionName: "symbol" },
      { ...contract("CreatorPass", pass ?? ZERO_ADDRESS), functionName: "saleInfo" },
    ],
    query: { enabled: Boolean(pass) },
  });
  const reserve = reads.data?.[0]?.result as bigint | undefined;
  const symbol = (reads.data?.[1]?.result as string | undefined) ?? "coin";
  const sale = reads.data?.[2]?.result as readonly [bigint, bigint, bigint, boolean] | undefined;
  const refetch = () => void reads.refetch();
  return (
    <section aria-labelledby="tools-h" data-testid="studio-tools">
      <h2 id="tools-h">Coins and passes</h2>
      <div className="options">
        <DistributeCoins coin={coin} reserve={reserve} symbol={symbol} onDone={refetch} />
        {pass && <AirdropPasses pass={pass} sale={sale} onDone={refetch} />}
        {pass && sale && <MintSettings pass={pass} sale={sale} onDone={refetch} />}
      </div>
    </section>
  );
}

/** A tool that sends a typed list: the list is cleared once its transaction is confirmed. */
function useListTool(onDone: () => void) {
  const wagmi = useConfig();
  const { chainId } = useAppConfig();
  const contract = useContracts();
  const [text, setText] = useState("");
  const tx = useTx(() => {
    setText("");
    onDone();
  });
  return { wagmi, chainId, contract, text, setText, tx };
}

function DistributeCoins({ coin, reserve, symbol, onDone }: { coin: Address; reserve?: bigint; symbol: string; onDone: () => void }) {
  const { wagmi, chainId, contract, text, setText, tx } = useListTool(onDone);
  const parsed = text.trim() && reserve !== undefined ? parseDistribution(text, reserve) : null;
  const call: ContractCall | null = parsed?.ok ? { ...(contract("CreatorCoin", coin) as { address: Address; abi: Abi }), functionName: "distribute", args: [parsed.value.recipients, parsed.value.amounts] } : null;
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  return (
    <div className="option" data-testid="distribute-coins">
      <h3>Hand out ${symbol}</h3>
      <span className="small">In your reserve: <b data-testid="coin-reserve">{reserve === undefined ? "…" : formatAmount(reserve, "coin").replace(/ .*/, "")}</b> ${symbol}</span>
      <label className="small">
        One fan per line: address, amount (paste a CSV if you have one)
        <textarea rows={4} value={text} onChange={(e) => setText(e.target.value)} placeholder={"0x1234…abcd, 100\n0x5678…ef01, 25.5"} data-testid="distribute-rows" />
      </label>
      {parsed && !parsed.ok && <RowErrors errors={parsed.errors} testId="distribute-errors" />}
      {parsed?.ok && (
        <span className="small" data-testid="distribute-summary">
          {parsed.value.recipients.length} fan{parsed.value.recipients.length === 1 ? "" : "s"} · {formatAmount(parsed.total, "coin").replace(/ .*/, "")} ${symbol} in total
        </span>
      )}
      <GasEstimate call={call} testId="distribute-gas" />
      <button
        className="btn primary"
        disabled={!call || busy}
        data-testid="distribute-submit"
        onClick={() => void tx.run(`Hand out ${symbol}`, () => writeContract(wagmi, { ...contract("CreatorCoin", coin), functionName: "distribute", args: [parsed!.ok ? parsed!.value.recipients : [], parsed!.ok ? parsed!.value.amounts : []], chainId }))}
      >
        Hand out coins
      </button>
      <TxStatus state={tx.state} />
    </div>
  );
}

function AirdropPasses({ pass, sale, onDone }: { pass: Address; sale?: readonly [bigint, bigint, bigint, boolean]; onDone: () => void }) {
  const { wagmi, chainId, contract, text, setText, tx } = useListTool(onDone);
  const remaining = sale ? sale[0] - sale[1] : undefined;
  const parsed = text.trim() && remaining !== undefined ? parseAirdrop(text, remaining) : null;
  const call: ContractCall | null = parsed?.ok ? { ...(contract("CreatorPass", pass) as { address: Address; abi: Abi }), functionName: "airdrop", args: [parsed.value] } : null;
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  return (
    <div className="option" data-testid="airdrop-passes">
      <h3>Airdrop passes</h3>
      <span className="small">Left to mint: <b>{remaining === undefined ? "…" : remaining.toString()}</b></span>
      <label className="small">
        One address per line; each gets one pass, free
        <textarea rows={3} value={text} onChange={(e) => setText(e.target.value)} placeholder="0x1234…abcd" data-testid="airdrop-rows" />
      </label>
      {parsed && !parsed.ok && <RowErrors errors={parsed.errors} testId="airdrop-errors" />}
      <GasEstimate call={call} testId="airdrop-gas" />
      <button
        className="btn primary"
        disabled={!call || busy}
        data-testid="airdrop-submit"
        onClick={() => void tx.run("Airdrop passes", () => writeContract(wagmi, { ...contract("CreatorPass", pass), functionName: "airdrop", args: [parsed!.ok ? parsed!.value : []], chainId }))}
      >
        Airdrop {parsed?.ok ? `${parsed.value.length} pass${parsed.value.length === 1 ? "" : "es"}` : "passes"}
      </button>
      <TxStatus state={tx.state} />
    </div>
  );
}

function MintSettings({ pass, sale, onDone }: { pass: Address; sale: readonly [bigint, bigint, bigint, boolean]; onDone: () => void }) {
  const wagmi = useConfig();
  const { chainId } = useAppConfig();
  const contract = useContracts();
  const [open, setOpen] = useState(sale[3]);
  const [price, setPrice] = useState(formatEther(sale[2]));
  const tx = useTx(onDone);
  let priceWei: bigint | null = null;
  let priceError = "";
  if (!/^\d+(\.\d{1,18})?$/.test(price.trim())) priceError = "the price is a number of ETH, e.g. 0.01 (0 for free)";
  else priceWei = parseEther(price.trim());
  const changed = priceWei !== null && (priceWei !== sale[2] || open !== sale[3]);
  const call: ContractCall | null = changed ? { ...(contract("CreatorPass", pass) as { address: Address; abi: Abi }), functionName: "setMintConfig", args: [priceWei, open] } : null;
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  return (
    <div className="option" data-testid="mint-settings">
      <h3>Pass minting</h3>
      <span className="small" data-testid="mint-state">
        Now: minting {sale[3] ? "open" : "closed"} · {formatAmount(sale[2], ZERO_ADDRESS)} each · {sale[1].toString()} of {sale[0].toString()} minted
      </span>
      <label className="small" style={{ flexDirection: "row", alignItems: "center", gap: 8 }}>
        <input type="checkbox" checked={open} onChange={(e) => setOpen(e.target.checked)} style={{ minHeight: 0 }} data-testid="mint-open" />
        Fans can mint passes
      </label>
      <label className="small">
        Price per pass (ETH)
        <input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" data-testid="mint-price" />
      </label>
      {priceError && <p className="field-error small">{priceError}</p>}
      <GasEstimate call={call} testId="mint-gas" />
      <button
        className="btn primary"
        disabled={!call || busy}
        data-testid="mint-save"
        onClick={() => void tx.run("Save minting", () => writeContract(wagmi, { ...contract("CreatorPass", pass), functionName: "setMintConfig", args: [priceWei!, open], chainId }))}
      >
        Save minting
      </button>
      <TxStatus state={tx.state} />
    </div>
  );
}

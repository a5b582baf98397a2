"use client";
import { useCallback, useState } from "react";
import { useAccount, useConfig } from "wagmi";
import { waitForTransactionReceipt } from "wagmi/actions";
import type { Hex } from "viem";
import { useStreamVault } from "./config.tsx";
import { explainTxError } from "./tx-errors.ts";

export type TxState =
  | { status: "idle" }
  | { status: "wallet"; label: string }
  | { status: "pending"; label: string; hash: Hex }
  | { status: "confirmed"; label: string; hash: Hex }
  | { status: "error"; label: string; message: string };

/** Runs one wallet transaction and tracks it: waiting for the wallet, mined, or a clear error. */
export function useTx(onConfirmed?: () => void) {
  const wagmi = useConfig();
  const { chainId: expected } = useStreamVault();
  const { chainId, isConnected } = useAccount();
  const [state, setState] = useState<TxState>({ status: "idle" });

  const run = useCallback(
    async (label: string, send: () => Promise<Hex>): Promise<boolean> => {
      if (!isConnected) {
        setState({ status: "error", label, message: "Connect a wallet first." });
        return false;
      }
      if (chainId !== expected) {
        setState({ status: "error", label, message: `Wrong network: switch your wallet to chain ${expected}.` });
        return false;
      }
      setState({ status: "wallet", label });
      try {
        const hash = await send();
        setState({ status: "pending", label, hash });
        const receipt = await waitForTransactionReceipt(wagmi, { hash, chainId: expected });
        if (receipt.status !== "success") throw new Error("The transaction reverted.");
        setState({ status: "confirmed", label, hash });
        onConfirmed?.();
        return true;
      } catch (error) {
        setState({ status: "error", label, message: explainTxError(error) });
        return false;
      }
    },
    [wagmi, expected, chainId, isConnected, onConfirmed],
  );
  return { state, run, reset: () => setState({ status: "idle" }) };
}

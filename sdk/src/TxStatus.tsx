"use client";
import type { TxState } from "./useTx.ts";

export function TxStatus({ state }: { state: TxState }) {
  if (state.status === "idle") return null;
  const text =
    state.status === "wallet"
      ? `${state.label}: confirm in your wallet…`
      : state.status === "pending"
        ? `${state.label}: waiting for the transaction ${state.hash.slice(0, 10)}…`
        : state.status === "confirmed"
          ? `${state.label}: done.`
          : `${state.label} failed: ${state.message}`;
  const cls = state.status === "confirmed" ? "ok" : state.status === "error" ? "err" : "pending";
  return (
    <p className={`status ${cls}`} role={state.status === "error" ? "alert" : "status"} aria-live="polite" data-testid="tx-status" data-state={state.status}>
      {text}
    </p>
  );
}

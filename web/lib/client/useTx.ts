"use client";
// Transaction tracking lives in the SDK (one copy for the web app and embedding sites).
export { useTx, type TxState } from "@streamvault/sdk";

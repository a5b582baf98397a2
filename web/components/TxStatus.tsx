"use client";
// The transaction status line lives in the SDK (one copy for the web app and embedding sites).
export { TxStatus } from "@streamvault/sdk";

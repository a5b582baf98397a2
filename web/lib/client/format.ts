// Formatting lives in the SDK (one copy for the web app and embedding sites).
export * from "@streamvault/sdk/format";

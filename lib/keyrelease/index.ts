/**
 * Key release (server side). Browser code should import `./wrap.ts` only (no Node imports there):
 * `generateEphemeralKeyPair`, `unwrapContentKey`, `unwrapContentCryptoKey`.
 */
export * from "./wrap.ts";
export * from "./gate.ts";
export * from "./channels.ts";
export * from "./siwe.ts";
export * from "./db.ts";
export * from "./http.ts";
export * from "./ratelimit.ts";
export * from "./audit.ts";
export * from "./sessions.ts";
export * from "./release.ts";
export * from "./stream.ts";
export * from "./service.ts";
export * from "./server.ts";
export * from "./lit.ts";
export * from "./plays.ts";
export * from "./wrap-node.ts";

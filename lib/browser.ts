/**
 * `@streamvault/lib/browser`: the part of the library with no Node imports, for browsers, edge
 * runtimes and bundlers (test/lib/package-entries.test.ts bundles it for platform=browser and fails
 * on any `node:` import). Contract facts, CID bytes, manifests, minute keys, vouchers, permits, key
 * wrapping and the portable PieceCID.
 */
export * from "./deployments/contracts.ts";
export * from "./manifest/index.ts";
export * from "./crypto/minute.ts";
export * from "./chain/cid.ts";
export * from "./chain/voucher.ts";
export * from "./chain/live-calls.ts";
export * from "./chain/permit.ts";
export * from "./keyrelease/wrap.ts";
export * from "./piece/browser.ts";
// Both the manifest schema and the minute-key module name the key scheme; the manifest's is the wire format.
export type { KeyScheme } from "./manifest/index.ts";
export * from "./crypto/segment-aad.ts";
export * from "./catalog/profile/schema.ts";

/**
 * `@streamvault/lib/node`: everything, for Node (CLI, web server, indexer, scripts, tests): the
 * browser entry plus the deployments loader, storage, media, keys, key release and the database.
 * Areas are also reachable one by one (`@streamvault/lib/storage`, ...; see lib/README.md).
 */
export * from "./browser.ts";
export * from "./deployments/index.ts";
export * from "./deployments/artifacts.ts";
export * from "./storage/index.ts";
export * from "./media/index.ts";
export * from "./crypto/index.ts";
export * from "./keys/index.ts";
export * from "./keyrelease/index.ts";
export * from "./db/index.ts";
// Names two areas export: the manifest's tier and variant role (media's are the same values), and
// storage's pieceCidOf (verifies a precomputed CID; the browser entry's computes one).
export type { Tier, VariantRole } from "./manifest/index.ts";
export { pieceCidOf } from "./storage/index.ts";

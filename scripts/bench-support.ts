/** Small re-exports shared by the benchmark scripts. */
export { ABIS, contractOf } from "@streamvault/lib/deployments";
export { REPO_ROOT as REPO_ROOT_DIR } from "@streamvault/lib/deployments/artifacts.ts";

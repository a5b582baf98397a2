/** Small re-exports shared by the benchmark scripts. */
export { ABIS, contractOf } from "../lib/deployments/index.ts";
export { REPO_ROOT as REPO_ROOT_DIR } from "../lib/deployments/artifacts.ts";

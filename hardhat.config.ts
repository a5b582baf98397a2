import { createRequire } from "node:module";
import { defineConfig, configVariable } from "hardhat/config";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatViemAssertions from "@nomicfoundation/hardhat-viem-assertions";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";

const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatMocha, hardhatViem, hardhatViemAssertions, hardhatNetworkHelpers],
  solidity: {
    // The wasm compiler shipped in the `solc` npm package: compiles fully offline.
    version: "0.8.28",
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
    },
  },
  paths: {
    // Solidity tests (*.t.sol, their handlers and helpers) live with the mocha contract tests.
    tests: { mocha: "test", solidity: "test/contracts" },
    // `npm run coverage` builds instrumented contracts into separate folders.
    artifacts: process.env.HARDHAT_ARTIFACTS_DIR ?? "artifacts",
    cache: process.env.HARDHAT_CACHE_DIR ?? "cache",
  },
  test: {
    mocha: { timeout: 120_000 },
    solidity: { fuzz: { runs: 256 } },
  },
  networks: {
    localhost: { type: "http", chainType: "l1", url: process.env.RPC_URL ?? "http://127.0.0.1:8545" },
    // Filecoin Calibration testnet (chain id 314159).
    calibration: {
      type: "http",
      chainType: "l1",
      chainId: 314159,
      url: configVariable("CALIBRATION_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    // Filecoin mainnet (chain id 314).
    filecoin: {
      type: "http",
      chainType: "l1",
      chainId: 314,
      url: configVariable("FILECOIN_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
});

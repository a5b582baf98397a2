import type { NextConfig } from "next";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

// The repository root: the web app bundles the shared ABIs from ../lib/deployments/abis.ts.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  experimental: { externalDir: true },
  typescript: { tsconfigPath: "tsconfig.json" },
  devIndicators: false,
};

export default config;

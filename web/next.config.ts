import type { NextConfig } from "next";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

// The repository root (npm workspaces): `@streamvault/lib` is the workspace package in ../lib.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  experimental: { externalDir: true },
  // Server code loads the library with Node's own loader (Node >= 22.18 strips its TypeScript types),
  // so storage, media, keys and key release run as in the CLI and tests, with their native
  // dependencies (sharp, PGlite, ffmpeg); client components bundle `@streamvault/lib/browser`.
  serverExternalPackages: ["@streamvault/lib"],
  typescript: { tsconfigPath: "tsconfig.json" },
  devIndicators: false,
};

export default config;

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
  // `@streamvault/lib` is a workspace package (a symlink to ../lib), which Turbopack compiles as
  // project source: `serverExternalPackages` does not apply to it. Server code therefore loads the
  // Node side with `import(/* turbopackIgnore: true */ "@streamvault/lib/<area>")`, which Node
  // resolves at run time through node_modules and runs with its own TypeScript support (storage,
  // media, keys, key release, with sharp, PGlite, ffmpeg, WebTorrent natives); the browser-safe
  // parts (`@streamvault/lib/browser`, deployments/contracts.ts) are bundled.
  typescript: { tsconfigPath: "tsconfig.json" },
  devIndicators: false,
};

export default config;

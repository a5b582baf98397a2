/**
 * The SDK example site: bundles main.tsx with esbuild and serves it (index.html, style.css,
 * bundle.js and a config.json written from the deployment) on 127.0.0.1, as a site separate from
 * the StreamVault web app. The web app must list this origin in SDK_ORIGINS.
 *
 *   node examples/embed/serve.ts        # against `npm run dev`: STREAMVAULT_URL, RPC_URL, INDEXER_URL,
 *                                       # CHAIN_ID, DEPLOYMENTS_DIR, CONTENT_ID, CREATOR, PORT (default 4173)
 */
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Address, Hex } from "viem";
import { configFromDeployment, type DeploymentLike } from "@streamvault/sdk/deployment";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, "..", "..");

export interface EmbedOptions {
  /** Port to listen on (0 = any free one). */
  port: number;
  /** The StreamVault web app (key release, manifests, playlists, pieces). */
  apiBase: string;
  /** JSON-RPC endpoint the page's own wagmi config uses. */
  rpcUrl: string;
  deployment: DeploymentLike;
  contentId: Hex;
  /** Creator whose live dashboard the page shows (needs indexerUrl). */
  creator?: Address;
  indexerUrl?: string;
}

/** The page's script: React, wagmi and the SDK in one ES module (the workspace hoists one copy of each). */
export async function bundleEmbed(): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [join(HERE, "main.tsx")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
    logLevel: "silent",
  });
  return result.outputFiles[0]!.contents;
}

export async function startEmbedExample(options: EmbedOptions): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = await bundleEmbed();
  const config = JSON.stringify({
    streamvault: configFromDeployment(options.deployment, { apiBase: options.apiBase, indexerUrl: options.indexerUrl }),
    rpcUrl: options.rpcUrl,
    contentId: options.contentId,
    creator: options.creator,
  });
  const files: Record<string, [string, () => Promise<Uint8Array | string>]> = {
    "/": ["text/html; charset=utf-8", () => readFile(join(HERE, "index.html"))],
    "/index.html": ["text/html; charset=utf-8", () => readFile(join(HERE, "index.html"))],
    "/style.css": ["text/css; charset=utf-8", () => readFile(join(HERE, "style.css"))],
    "/bundle.js": ["text/javascript; charset=utf-8", async () => bundle],
    "/config.json": ["application/json", async () => config],
  };
  const server: Server = createServer((req, res) => {
    const file = files[new URL(req.url ?? "/", "http://x").pathname];
    if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    file[1]().then(
      (body) => res.writeHead(200, { "content-type": file[0], "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : body),
      (error) => res.writeHead(500, { "content-type": "text/plain" }).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (import.meta.main) {
  const env = process.env;
  const chainId = Number(env.CHAIN_ID ?? 31337);
  const deploymentsDir = env.DEPLOYMENTS_DIR ?? join(REPO, "deployments");
  const deploymentPath = join(deploymentsDir, `${chainId}.json`);
  let deployment: DeploymentLike;
  try {
    deployment = JSON.parse(readFileSync(deploymentPath, "utf8")) as DeploymentLike;
  } catch {
    throw new Error(`No deployment at ${deploymentPath}: start the stack first (npm run dev) or set DEPLOYMENTS_DIR / CHAIN_ID.`);
  }
  const apiBase = (env.STREAMVAULT_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
  let contentId = env.CONTENT_ID as Hex | undefined;
  let creator = env.CREATOR as Address | undefined;
  if (!contentId) {
    // The newest gated item of the catalogue.
    const catalog = (await (await fetch(`${apiBase}/api/catalog`)).json()) as { items?: { id: Hex; creator: Address; tier: number }[] };
    const item = catalog.items?.find((i) => i.tier > 0) ?? catalog.items?.[0];
    if (!item) throw new Error(`${apiBase}/api/catalog lists no items: publish one (npm run dev publishes demo tracks) or set CONTENT_ID.`);
    contentId = item.id;
    creator ??= item.creator;
  }
  const site = await startEmbedExample({
    port: Number(env.PORT ?? 4173),
    apiBase,
    rpcUrl: env.RPC_URL ?? "http://127.0.0.1:8545",
    indexerUrl: env.INDEXER_URL ?? "http://127.0.0.1:42069",
    deployment,
    contentId,
    creator,
  });
  console.log(`SDK example site on ${site.url} (the web app needs SDK_ORIGINS=${site.url})`);
}

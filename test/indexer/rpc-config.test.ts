/**
 * The indexer's RPC list against Ponder's own config check (its buildConfig, the code that prints
 * "Detected public RPC URL" at start): the local anvil URL draws no warning, a public Glif URL
 * still does, and a malformed RPC_URL is refused with what to set.
 */
import { expect } from "chai";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { ponderRpcUrls } from "../../indexer/src/lib/rpc.ts";

const PUBLIC_RPC_WARNING = "Detected public RPC URL";
// Ponder's package exports only its entry point; its config builder is imported by file.
const ponderConfig = pathToFileURL(join(REPO_ROOT, "node_modules", "ponder", "dist", "esm", "build", "config.js")).href;

async function ponderWarnings(chainId: number, rpc: string[]): Promise<string[]> {
  const { buildConfig } = (await import(ponderConfig)) as { buildConfig(args: unknown): { logs: { level: string; msg: string }[] } };
  const quiet = () => {};
  const common = {
    logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
    options: { rpcMaxConcurrency: 128 },
    metrics: {},
    shutdown: { add: quiet, isKilled: false },
  };
  const { logs } = buildConfig({ common, config: { chains: { streamvault: { id: chainId, rpc } }, contracts: {} } });
  return logs.filter((l) => l.level === "warn").map((l) => l.msg);
}

describe("indexer RPC config (Ponder's public-RPC check)", function () {
  it("the local anvil URL, fanned out 4 times, draws no public-RPC warning (written as given it drew 4)", async function () {
    const local = "http://127.0.0.1:8545";
    expect((await ponderWarnings(31337, Array(4).fill(local))).filter((m) => m.startsWith(PUBLIC_RPC_WARNING))).to.have.length(4);
    const urls = ponderRpcUrls(local, 4);
    expect(urls).to.deep.equal(Array(4).fill("http://127.0.0.1:8545/"));
    expect(await ponderWarnings(31337, urls)).to.deep.equal([]);
    expect(ponderRpcUrls("http://localhost:8545", 1)).to.deep.equal(["http://localhost:8545/"]);
  });

  it("a public endpoint is passed as written and keeps Ponder's warning", async function () {
    const glif = "https://api.calibration.node.glif.io/rpc/v1";
    expect(ponderRpcUrls(glif, 1)).to.deep.equal([glif]);
    expect(await ponderWarnings(314159, ponderRpcUrls(glif, 1))).to.satisfy((msgs: string[]) => msgs.some((m) => m.startsWith(PUBLIC_RPC_WARNING)));
  });

  it("a malformed RPC_URL is refused with what to set; fan-out is at least 1", function () {
    expect(() => ponderRpcUrls("127.0.0.1:8545", 4)).to.throw(/RPC_URL "127\.0\.0\.1:8545" is not a URL: set it to/);
    expect(ponderRpcUrls("http://127.0.0.1:9545", 0)).to.have.length(1);
  });
});

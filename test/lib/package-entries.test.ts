/**
 * `@streamvault/lib` as a package: the browser entry bundles for browsers without any Node
 * import, the contract lookup by name matches the deployments file, and the generated enums are
 * the compiled contracts' own.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { createPublicClient, http, zeroAddress } from "viem";
import { startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { artifactPath, REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { ABIS, contract, contractOf, DEPLOYED_CONTRACTS, LIVE_STATUS_NAMES, loadDeployment, REASON, REASON_NAMES, STATUS_NAMES, TIER_NAMES, TRIGGER_NAMES, writeDeployment } from "@streamvault/lib/deployments";

const exec = promisify(execFile);

/** Bundles `entry` as a browser app would; returns esbuild's errors and every input file. */
async function bundleForBrowser(entry: string): Promise<{ errors: string[]; inputs: string[] }> {
  try {
    const result = await build({
      stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: REPO_ROOT, loader: "ts" },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    return { errors: [], inputs: Object.keys(result.metafile.inputs) };
  } catch (error) {
    return { errors: (error as { errors: { text: string }[] }).errors.map((e) => e.text), inputs: [] };
  }
}

describe("@streamvault/lib package entries", () => {
  it("resolves by name to the files in lib/ (workspace link, not a copy)", () => {
    const require = createRequire(join(REPO_ROOT, "web", "package.json"));
    expect(require.resolve("@streamvault/lib/browser")).to.equal(join(REPO_ROOT, "lib", "browser.ts"));
    expect(import.meta.resolve("@streamvault/lib/storage")).to.equal(new URL("lib/storage/index.ts", `file://${REPO_ROOT}/`).href);
    expect(fileURLToPath(import.meta.resolve("@streamvault/lib/catalog/chain/content.ts"))).to.equal(join(REPO_ROOT, "lib", "catalog", "chain", "content.ts"));
  });

  it("the browser entry bundles for platform=browser with no node: builtins; the node entry does not", async function () {
    this.timeout(120_000);
    const browser = await bundleForBrowser("@streamvault/lib/browser");
    expect(browser.errors, browser.errors.join("\n")).to.deep.equal([]);
    expect(browser.inputs.filter((file) => file.startsWith("node:") || /(^|\/)node_modules\/node-/.test(file))).to.deep.equal([]);
    expect(browser.inputs).to.include("lib/deployments/contracts.ts");
    // The check can fail: the Node entry pulls node:fs, node:crypto, ... and does not bundle for a browser.
    const node = await bundleForBrowser("@streamvault/lib/node");
    expect(node.errors.some((e) => /node:/.test(e)), node.errors.slice(0, 3).join("\n")).to.equal(true);
  });

  it("generated enums list the compiled contracts' members in on-chain order", () => {
    const artifact = JSON.parse(readFileSync(artifactPath("ContentAccess"), "utf8"));
    const output = JSON.parse(readFileSync(join(REPO_ROOT, "artifacts", "build-info", `${artifact.buildInfoId}.output.json`), "utf8"));
    const members = (source: string, name: string): string[] => {
      const found: string[][] = [];
      const walk = (n: unknown): void => {
        if (Array.isArray(n)) return n.forEach(walk);
        if (!n || typeof n !== "object") return;
        const node = n as { nodeType?: string; name?: string; members?: { name: string }[] };
        if (node.nodeType === "EnumDefinition" && node.name === name) found.push(node.members!.map((m) => m.name[0].toLowerCase() + m.name.slice(1)));
        Object.values(node).forEach(walk);
      };
      walk(output.output.sources[`project/contracts/${source}`].ast);
      expect(found, `${name} in ${source}`).to.have.length(1);
      return found[0];
    };
    expect([...TIER_NAMES]).to.deep.equal(members("access/ContentAccess.sol", "Tier"));
    expect([...REASON_NAMES]).to.deep.equal(members("access/ContentAccess.sol", "Reason"));
    expect([...TRIGGER_NAMES]).to.deep.equal(members("backup/BackupRegistry.sol", "Trigger"));
    expect([...STATUS_NAMES]).to.deep.equal(members("payments/PaymentChannels.sol", "Status"));
    expect([...LIVE_STATUS_NAMES]).to.deep.equal(members("live/LiveStreams.sol", "LiveStatus"));
  });

  describe("contract(name) over a real deployment", () => {
    let node: AnvilNode;
    let dir: string;
    before(async function () {
      this.timeout(120_000);
      node = await startAnvil();
      dir = mkdtempSync(join(tmpdir(), "sv-contract-"));
      await exec(process.execPath, ["scripts/deploy.ts"], { cwd: REPO_ROOT, env: { ...process.env, RPC_URL: node.rpcUrl, DEPLOYMENTS_DIR: dir } });
    });
    after(async () => node?.stop());

    it("returns each deployed contract's address and typed ABI, and reads through it", async () => {
      const deployment = loadDeployment(31337, dir);
      for (const name of DEPLOYED_CONTRACTS) {
        const found = contract(name, { chainId: 31337, dir });
        expect(Object.keys(found).sort(), name).to.deep.equal(["abi", "address"]);
        expect(found.address, name).to.equal(deployment.contracts[name]!.address);
        expect(found.abi, name).to.equal(ABIS[name]);
        expect(found.abi, name).to.deep.equal(JSON.parse(readFileSync(artifactPath(name), "utf8")).abi);
      }
      const client = createPublicClient({ transport: http(node.rpcUrl) });
      expect(await client.readContract({ ...contract("ContentAccess", { dir }), functionName: "creatorRegistry" })).to.equal(deployment.contracts.CreatorRegistry!.address);
      const [reason] = await client.readContract({ ...contract("ContentAccess", { dir }), functionName: "accessOf", args: [zeroAddress, `0x${"11".repeat(32)}`] });
      expect(reason).to.equal(REASON.none);
    });

    it("sees a redeploy without a restart, and says what to run when a contract or the file is missing", () => {
      const deployment = loadDeployment(31337, dir);
      const moved = { ...deployment, contracts: { ...deployment.contracts, BackupRegistry: { ...deployment.contracts.BackupRegistry!, address: deployment.contracts.ContentAccess!.address } } };
      writeFileSync(join(dir, "31337.json"), JSON.stringify(moved, null, 2) + " ".repeat(7));
      expect(contract("BackupRegistry", { dir }).address).to.equal(deployment.contracts.ContentAccess!.address);
      const { BackupRegistry: _dropped, ...rest } = deployment.contracts;
      writeDeployment({ ...deployment, contracts: rest }, dir);
      expect(() => contract("BackupRegistry", { dir })).to.throw(/Chain 31337 has no BackupRegistry deployed: run `npm run deploy`/);
      expect(() => contract("ContentAccess", { chainId: 4242, dir })).to.throw(/No deployment for chain 4242 .*npm run deploy/);
      expect(contractOf(deployment, "ContentAccess").blockNumber).to.be.a("number");
    });
  });
});

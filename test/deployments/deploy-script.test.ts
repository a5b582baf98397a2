import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createPublicClient, http } from "viem";
import { startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { artifactPath, DEPLOYED_CONTRACTS, REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { ABIS, contractOf, loadDeployment, writeDeployment } from "@streamvault/lib/deployments";

const exec = promisify(execFile);

describe("npm run deploy and the deployments file", () => {
  let node: AnvilNode;
  let dir: string;
  before(async () => {
    node = await startAnvil();
    dir = mkdtempSync(join(tmpdir(), "sv-deploy-"));
  });
  after(async () => node?.stop());

  it("deploys every contract to RPC_URL and writes deployments/<chainId>.json", async () => {
    const { stdout } = await exec(process.execPath, ["scripts/deploy.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, RPC_URL: node.rpcUrl, DEPLOYMENTS_DIR: dir },
    });
    expect(stdout).to.contain(join(dir, "31337.json"));
    const deployment = loadDeployment(31337, dir);
    const client = createPublicClient({ transport: http(node.rpcUrl) });
    for (const name of DEPLOYED_CONTRACTS) {
      const entry = deployment.contracts[name]!;
      expect(entry, name).to.exist;
      const code = await client.getCode({ address: entry.address });
      expect(code && code.length > 2, `${name} has code`).to.equal(true);
      expect(entry.abi).to.deep.equal(JSON.parse(readFileSync(artifactPath(name), "utf8")).abi);
      const block = await client.getBlock({ blockNumber: BigInt(entry.blockNumber) });
      expect(block.number).to.equal(BigInt(entry.blockNumber));
    }
    // The contracts are wired: ContentAccess knows the registry, channels and live streams know ContentAccess.
    const ca = contractOf(deployment, "ContentAccess");
    expect(
      await client.readContract({ address: ca.address, abi: ABIS.ContentAccess, functionName: "creatorRegistry" }),
    ).to.equal(deployment.contracts.CreatorRegistry!.address);
    const pc = contractOf(deployment, "PaymentChannels");
    expect(await client.readContract({ address: pc.address, abi: ABIS.PaymentChannels, functionName: "splits" })).to.equal(
      ca.address,
    );
    const live = contractOf(deployment, "LiveStreams");
    expect(await client.readContract({ address: live.address, abi: ABIS.LiveStreams, functionName: "contentAccess" })).to.equal(ca.address);
    const stable = deployment.contracts.MockStablecoin!.address;
    expect(await client.readContract({ address: ca.address, abi: ABIS.ContentAccess, functionName: "isPaymentToken", args: [stable] })).to.equal(true);
  });

  it("says what to run when the chain is unreachable", async () => {
    const failure = await exec(process.execPath, ["scripts/deploy.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, RPC_URL: "http://127.0.0.1:1", DEPLOYMENTS_DIR: dir },
    }).then(
      () => undefined,
      (error: { stderr: string; code: number }) => error,
    );
    expect(failure, "deploy to a dead RPC must fail").to.exist;
    expect(failure!.code).to.equal(1);
    expect(failure!.stderr).to.contain("npm run chain");
  });

  it("loadDeployment explains a missing file and refuses a file of another chain", () => {
    const empty = mkdtempSync(join(tmpdir(), "sv-none-"));
    expect(() => loadDeployment(31337, empty)).to.throw(/npm run deploy/);
    writeDeployment({ chainId: 5, deployer: "0x0000000000000000000000000000000000000001", deployedAt: "", contracts: {} }, empty);
    writeFileSync(join(empty, "314.json"), readFileSync(join(empty, "5.json")));
    expect(() => loadDeployment(314, empty)).to.throw(/is for chain 5/);
    expect(() => contractOf(loadDeployment(5, empty), "ContentAccess")).to.throw(/no ContentAccess/);
  });

  it("lib/deployments/abis.ts matches the compiled contracts (run `npm run build` if not)", async () => {
    for (const name of DEPLOYED_CONTRACTS) {
      const compiled = JSON.parse(readFileSync(artifactPath(name), "utf8")).abi;
      expect(JSON.parse(JSON.stringify(ABIS[name])), name).to.deep.equal(compiled);
    }
  });
});

/**
 * The production profile's service checks before anything starts (scripts/serve-settings.ts
 * checkServices): Postgres and the chain node must answer, the node must be CHAIN_ID and hold the
 * deployment's contracts. Real anvil; Postgres from TEST_DATABASE_URL when set.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { writeDeployment, type Deployment } from "@streamvault/lib/deployments";
import { checkServices, serveSettings, ServeSettingsError } from "../../scripts/serve-settings.ts";

describe("npm run serve: service checks", function () {
  this.timeout(60_000);
  let anvil: AnvilNode;
  let deploymentsDir: string;
  let closedPort: number;

  before(async () => {
    anvil = await startAnvil();
    closedPort = await freePort();
    deploymentsDir = mkdtempSync(join(tmpdir(), "sv-serve-services-"));
    // Deployments naming a ContentAccess where this fresh chain has no code (a chain restarted from genesis).
    const stale = (chainId: number): Deployment => ({
      chainId,
      deployer: "0x0000000000000000000000000000000000000001",
      deployedAt: new Date().toISOString(),
      contracts: { ContentAccess: { address: "0x00000000000000000000000000000000c0ffee00", abi: [], blockNumber: 1 } },
    });
    writeDeployment(stale(31337), deploymentsDir);
    writeDeployment(stale(314159), deploymentsDir);
  });
  after(async () => {
    await anvil?.stop();
    rmSync(deploymentsDir, { recursive: true, force: true });
  });

  const settings = (env: Record<string, string>) =>
    serveSettings({
      DATABASE_URL: process.env.TEST_DATABASE_URL ?? `postgresql://streamvault:streamvault@127.0.0.1:${closedPort}/streamvault`,
      STREAMVAULT_MASTER_KEY: "cd".repeat(32),
      WEB_ORIGIN: "https://app.example.com",
      TRUSTED_PROXY_HOPS: "1",
      RPC_URL: anvil.rpcUrl,
      CHAIN_ID: "31337",
      DEPLOYMENTS_DIR: deploymentsDir,
      SERVE_KEEPER: "off",
      ...env,
    });

  async function problemsOf(env: Record<string, string>): Promise<readonly string[]> {
    try {
      await checkServices(settings(env), 5_000);
    } catch (error) {
      expect(error).to.be.instanceOf(ServeSettingsError);
      return (error as ServeSettingsError).problems;
    }
    return [];
  }

  it("lists an unreachable Postgres and an unreachable chain node together, password hidden", async () => {
    const problems = await problemsOf({ DATABASE_URL: `postgresql://streamvault:hunter2@127.0.0.1:${closedPort}/streamvault`, RPC_URL: `http://127.0.0.1:${closedPort}` });
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/^DATABASE_URL=postgresql:\/\/streamvault:\*\*\*@127\.0\.0\.1:\d+\/streamvault: cannot connect \(.+\): start Postgres there/);
    expect(problems[1]).to.match(new RegExp(`^RPC_URL=http://127.0.0.1:${closedPort}: no JSON-RPC answer \\(.+\\): start the node or fix the URL$`));
    expect(problems.join("\n")).not.to.include("hunter2");
  });

  it("refuses a node of another chain than CHAIN_ID, saying both", async () => {
    const problems = await problemsOf({ CHAIN_ID: "314159" });
    const chain = problems.filter((p) => p.startsWith("RPC_URL="));
    expect(chain).to.deep.equal([`RPC_URL=${anvil.rpcUrl} is chain 31337, CHAIN_ID=314159: point RPC_URL at chain 314159, or set CHAIN_ID=31337 (with its deployments/31337.json)`]);
  });

  it("refuses a deployments file whose contracts the chain does not have", async () => {
    const problems = await problemsOf({});
    const chain = problems.filter((p) => !p.startsWith("DATABASE_URL="));
    expect(chain).to.have.length(1);
    expect(chain[0]).to.include("has no contract there");
    expect(chain[0]).to.include("0x00000000000000000000000000000000c0ffee00");
    expect(chain[0]).to.include("npm run deploy");
    // With a reachable Postgres (TEST_DATABASE_URL) that is the only problem.
    if (process.env.TEST_DATABASE_URL) expect(problems).to.have.length(1);
  });
});

/**
 * `npm run serve` for real: the production profile started once (scripts/serve.ts) on loopback
 * against anvil with the system deployed and a launched creator, on a Postgres database of its own
 * next to TEST_DATABASE_URL (the role needs CREATEDB; CI exports it, .ci/run). Registered only when
 * TEST_DATABASE_URL is set, like the other Postgres suites (test/keyrelease/postgres.test.ts).
 * The web app is the build test/web/server.ts ensureBuild() makes once per run.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createPublicClient, createWalletClient, http, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { freePort, startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { contractOf, writeDeployment } from "@streamvault/lib/deployments";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { scratchDatabase } from "../indexer/harness.ts";
import { ensureBuild, sessionCookie } from "../web/server.ts";

const adminUrl = process.env.TEST_DATABASE_URL;

if (adminUrl) {
  describe("npm run serve (production profile on Postgres)", function () {
    // The first run of a checkout builds the web app (next build, minutes on 2 cores).
    this.timeout(600_000);
    const creatorKey = DEV_PRIVATE_KEYS[1] as Hex;
    const creator = privateKeyToAccount(creatorKey).address.toLowerCase();
    let anvil: AnvilNode;
    let dir: string;
    let database: Awaited<ReturnType<typeof scratchDatabase>>;
    let serve: ChildProcess;
    let output = "";
    let exited: Promise<number | null>;
    let webUrl: string;
    let writerUrl: string;
    let replicaUrl: string;

    async function deployWithCreator(): Promise<string> {
      anvil = await startAnvil();
      const publicClient = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) });
      const wallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: foundry, transport: http(anvil.rpcUrl) });
      const deployment = await deploySystem({ publicClient: publicClient as never, walletClient: wallet(DEV_PRIVATE_KEYS[0] as Hex) });
      const deploymentsDir = join(dir, "deployments");
      writeDeployment(deployment, deploymentsDir);
      const registry = contractOf(deployment, "CreatorRegistry");
      const hash = await wallet(creatorKey).writeContract({
        address: registry.address,
        abi: registry.abi,
        functionName: "launchCreator",
        args: [
          { name: "Serve Sound", symbol: "SRV", supply: parseEther("1000"), creatorAllocation: parseEther("100") },
          { name: "Serve Pass", symbol: "SRVP", maxSupply: 10n, mintPrice: 0n, mintEnabled: true, royaltyBps: 0 },
          "",
        ],
      });
      expect((await publicClient.waitForTransactionReceipt({ hash })).status).to.equal("success");
      return deploymentsDir;
    }

    async function distinctFreePorts(n: number): Promise<number[]> {
      const ports = new Set<number>();
      while (ports.size < n) ports.add(await freePort());
      return [...ports];
    }

    /** Polls `probe` until it returns true; fails with serve's output when serve exits first. */
    async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (serve.exitCode !== null || serve.signalCode !== null) throw new Error(`npm run serve exited (${serve.exitCode ?? serve.signalCode}) before ${what}:\n${output.slice(-6000)}`);
        try {
          if (await probe()) return;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s:\n${output.slice(-6000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    const graphql = async (url: string, query: string) => {
      const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
      return { status: res.status, body: (await res.json()) as { data?: any; errors?: unknown[] } };
    };

    before(async function () {
      dir = await mkdtemp(join(tmpdir(), "sv-serve-"));
      const [deploymentsDir, db] = await Promise.all([deployWithCreator(), scratchDatabase(adminUrl), ensureBuild()]);
      database = db;
      const [webPort, writerPort, replicaPort] = await distinctFreePorts(3);
      webUrl = `http://127.0.0.1:${webPort}`;
      writerUrl = `http://127.0.0.1:${writerPort}`;
      replicaUrl = `http://127.0.0.1:${replicaPort}`;
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        DATABASE_URL: database.url,
        STREAMVAULT_MASTER_KEY: "5".repeat(64),
        WEB_ORIGIN: webUrl,
        TRUSTED_PROXY_HOPS: "0",
        RPC_URL: anvil.rpcUrl,
        CHAIN_ID: "31337",
        DEPLOYMENTS_DIR: deploymentsDir,
        WEB_PORTS: String(webPort),
        INDEXER_PORT: String(writerPort),
        INDEXER_REPLICA_PORTS: String(replicaPort),
        KEEPER_PRIVATE_KEY: DEV_PRIVATE_KEYS[5] as Hex,
        KEEPER_INTERVAL_SECONDS: "2",
        // Everything that is still a directory goes to the test's own.
        STORAGE_DATA_DIR: join(dir, "pieces"),
        STREAMVAULT_HOME: join(dir, "home"),
        UPLOAD_SPOOL_DIR: join(dir, "spool"),
        INDEXER_LOG_LEVEL: "warn",
        PONDER_LOG_LEVEL: "warn",
      };
      serve = spawn(process.execPath, ["scripts/serve.ts"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      serve.stdout!.on("data", (d) => (output += d));
      serve.stderr!.on("data", (d) => (output += d));
      exited = new Promise((resolve) => serve.once("exit", (code) => resolve(code)));
      // serve says ready once the writer, the replica and the web instance answer.
      await until("npm run serve says it is ready", async () => output.includes(`npm run serve: ready for ${webUrl}`));
    });

    after(async function () {
      if (serve && serve.exitCode === null && serve.signalCode === null) {
        serve.kill("SIGTERM");
        await exited;
      }
      await anvil?.stop();
      await database?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("serves a page from the built web app", async () => {
      const res = await fetch(`${webUrl}/creator/${creator}`);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/text\/html/);
      // A production build: no dev-server scripts in the page.
      const html = await res.text();
      expect(html).to.include("StreamVault");
      expect(html).not.to.include("webpack-hmr");
      expect(html).not.to.include("turbopack-hmr");
    });

    it("answers GraphQL from a `ponder serve` replica with what the writer indexed", async () => {
      expect(replicaUrl).not.to.equal(writerUrl);
      await until("the creator is indexed", async () => {
        const { body } = await graphql(replicaUrl, "{ creators { items { id } } }");
        return (body.data?.creators?.items ?? []).some((c: { id: string }) => c.id === creator);
      });
      const replica = await graphql(replicaUrl, `{ creator(id: "${creator}") { id } }`);
      expect(replica.status).to.equal(200);
      expect(replica.body.data.creator).to.deep.equal({ id: creator });
      // The replica does not index: only the writer's log says it started indexing.
      expect(output).to.match(new RegExp(`started indexer replica 1 \\(:${new URL(replicaUrl).port}\\) \\(pid \\d+\\)`));
    });

    it("signs in with a key-release nonce, kept in the shared Postgres, and sees the socket address", async () => {
      const cookie = await sessionCookie(webUrl, creatorKey);
      const session = (await (await fetch(`${webUrl}/api/auth/session`, { headers: { cookie } })).json()) as { address?: string; wallet?: string };
      expect(JSON.stringify(session).toLowerCase()).to.include(creator);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const nonces = await client.query("SELECT count(*)::int AS n FROM keyrelease.siwe_nonces WHERE used_at IS NOT NULL");
        expect(nonces.rows[0].n).to.be.at.least(1);
        const sessions = await client.query("SELECT wallet FROM keyrelease.sessions");
        expect(sessions.rows.map((r) => String(r.wallet).toLowerCase())).to.include(creator);
      } finally {
        await client.end();
      }
      // Started through web/server.ts: route handlers got the peer address, not a client-written header.
      expect(output).not.to.include("started without web/server.ts");
    });

    it("gives the keeper's private key to the keeper only", () => {
      const environOf = (name: string) => {
        const match = new RegExp(`started ${name.replace(/[()]/g, "\\$&")} \\(pid (\\d+)\\)`).exec(output);
        expect(match, `${name} in:\n${output}`).to.not.equal(null);
        return readFileSync(`/proc/${match![1]}/environ`, "utf8").split("\0");
      };
      const keeperKey = `KEEPER_PRIVATE_KEY=${DEV_PRIVATE_KEYS[5]}`;
      expect(environOf("voucher keeper")).to.include(keeperKey);
      for (const name of [`web (:${new URL(webUrl).port})`, "indexer writer", `indexer replica 1 (:${new URL(replicaUrl).port})`]) {
        const environ = environOf(name);
        expect(environ.filter((e) => e.startsWith("KEEPER_PRIVATE_KEY=")), name).to.deep.equal([]);
        expect(environ, name).to.include(`DATABASE_URL=${database.url}`);
      }
    });

    it("exits non-zero and stops the others when a child dies", async () => {
      const match = /started indexer replica 1 \(:\d+\) \(pid (\d+)\)/.exec(output);
      expect(match, output).to.not.equal(null);
      process.kill(Number(match![1]), "SIGKILL");
      // A bound so a supervisor that keeps running fails here instead of at mocha's timeout.
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running 60 s after its child died"), 60_000).unref())]);
      expect(code, output).to.equal(1);
      expect(output).to.match(/indexer replica 1 \(:\d+\) \(pid \d+\) exited \(SIGKILL\); stopping the others/);
      for (const url of [webUrl, writerUrl]) {
        const down = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
          () => false,
          () => true,
        );
        expect(down, `${url} still answers`).to.equal(true);
      }
    });
  });
}

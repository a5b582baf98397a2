/**
 * The production profile's settings check (scripts/serve-settings.ts): every missing or bad
 * setting refused with a message naming the variable and what to set, all problems listed at once,
 * a good set accepted; and `npm run serve` itself refusing to start (exit 2) before it runs anything.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { hasErrorCode } from "@streamvault/lib/errors.ts";
import { serveSettings, ServeSettingsError } from "../../scripts/serve-settings.ts";

describe("npm run serve: settings check", function () {
  let deploymentsDir: string;
  let good: Record<string, string>;

  before(() => {
    deploymentsDir = mkdtempSync(join(tmpdir(), "sv-serve-settings-"));
    writeFileSync(join(deploymentsDir, "31337.json"), "{}");
    good = {
      DATABASE_URL: "postgresql://streamvault:secret-pw@127.0.0.1:5432/streamvault",
      STREAMVAULT_MASTER_KEY: "ab".repeat(32),
      WEB_ORIGIN: "https://app.example.com",
      TRUSTED_PROXY_HOPS: "1",
      RPC_URL: "https://rpc.example.com/v1",
      CHAIN_ID: "31337",
      DEPLOYMENTS_DIR: deploymentsDir,
      KEEPER_PRIVATE_KEY: `0x${"1".repeat(64)}`,
    };
  });
  after(() => rmSync(deploymentsDir, { recursive: true, force: true }));

  /** The problems serveSettings reports for `env` (fails the test when it accepts it). */
  function problemsOf(env: Record<string, string>): readonly string[] {
    try {
      serveSettings(env);
    } catch (error) {
      expect(error).to.be.instanceOf(ServeSettingsError);
      expect(hasErrorCode(error, "bad_input")).to.equal(true);
      return (error as ServeSettingsError).problems;
    }
    throw new Error(`serveSettings accepted ${JSON.stringify(env)}`);
  }

  it("accepts a good set and returns what every process is started with", () => {
    const s = serveSettings({ ...good, WEB_PORTS: "3000,3001", INDEXER_PORT: "42069", INDEXER_REPLICA_PORTS: "42070,42071" });
    expect(s).to.deep.include({
      databaseUrl: good.DATABASE_URL,
      webOrigin: "https://app.example.com",
      trustedProxyHops: 1,
      rpcUrl: good.RPC_URL,
      chainId: 31337,
      deploymentsDir,
      webPorts: [3000, 3001],
      indexerPort: 42069,
      indexerReplicaPorts: [42070, 42071],
      indexerSchema: "streamvault",
      keeper: true,
      keeperPrivateKey: good.KEEPER_PRIVATE_KEY,
    });
    // Defaults: one web instance on 3000, one replica beside the writer on 42069.
    expect(serveSettings(good)).to.deep.include({ webPorts: [3000], indexerPort: 42069, indexerReplicaPorts: [42070], webHost: "127.0.0.1" });
    expect(serveSettings({ ...good, TRUSTED_PROXY_HOPS: "0", WEB_ORIGIN: "http://127.0.0.1:3000" }).trustedProxyHops).to.equal(0);
    expect(serveSettings({ ...good, INDEXER_REPLICA_PORTS: "none" }).indexerReplicaPorts).to.deep.equal([]);
  });

  it("lists every missing required setting at once, each by name", () => {
    const problems = problemsOf({});
    const required = ["DATABASE_URL", "STREAMVAULT_MASTER_KEY", "WEB_ORIGIN", "TRUSTED_PROXY_HOPS", "RPC_URL", "CHAIN_ID", "KEEPER_PRIVATE_KEY"];
    expect(problems).to.have.length(required.length);
    for (const name of required) expect(problems.filter((p) => p.startsWith(`${name} is not set:`)), name).to.have.length(1);
    try {
      serveSettings({});
    } catch (error) {
      for (const name of required) expect((error as Error).message).to.include(`${name} is not set`);
    }
  });

  for (const [name, hint] of [
    ["DATABASE_URL", "postgresql://"],
    ["STREAMVAULT_MASTER_KEY", "openssl rand -hex 32"],
    ["WEB_ORIGIN", "https://"],
    ["TRUSTED_PROXY_HOPS", "load balancer"],
    ["RPC_URL", "JSON-RPC"],
    ["CHAIN_ID", "314159"],
    ["KEEPER_PRIVATE_KEY", "SERVE_KEEPER=off"],
  ] as const) {
    it(`refuses a missing ${name} with what to set`, () => {
      const env = { ...good };
      delete (env as Record<string, string>)[name];
      const problems = problemsOf(env);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(new RegExp(`^${name} is not set: `));
      expect(problems[0]).to.include(hint);
    });
  }

  for (const [name, bad, expected] of [
    ["DATABASE_URL", "mysql://u:p@db/x", "must be a postgresql:// URL"],
    ["DATABASE_URL", "postgresql://127.0.0.1:5432", "naming a database"],
    ["STREAMVAULT_MASTER_KEY", "abc123", "64 hex characters"],
    ["STREAMVAULT_MASTER_KEY", "z".repeat(64), "64 hex characters"],
    ["WEB_ORIGIN", "app.example.com", "not a URL"],
    ["WEB_ORIGIN", "https://app.example.com/fans/", "set the origin only"],
    ["WEB_ORIGIN", "http://app.example.com", "must be https://"],
    ["TRUSTED_PROXY_HOPS", "-1", "whole number of proxies"],
    ["TRUSTED_PROXY_HOPS", "one", "whole number of proxies"],
    ["RPC_URL", "localhost:8545", "http(s)://"],
    ["CHAIN_ID", "0x7a69", "positive whole number"],
    ["CHAIN_ID", "314159", "npm run deploy"],
    ["KEEPER_PRIVATE_KEY", "0x1234", "64 hex characters"],
    ["WEB_PORTS", "3000,http", "port numbers"],
    ["INDEXER_PORT", "70000", "port numbers"],
    ["INDEXER_REPLICA_PORTS", "3000", "more than once"],
    ["DATABASE_SCHEMA", "keyrelease", "choose another"],
    ["DATABASE_SCHEMA", "Bad-Name", "lower-case letters"],
    ["SERVE_KEEPER", "maybe", '"off"'],
    ["SERVE_INDEXER_WRITER", "replica", '"off"'],
    ["INDEXER_URL", "indexer.internal:42069", "http(s)://"],
  ] as const) {
    it(`refuses ${name}=${bad} saying ${expected}`, () => {
      const problems = problemsOf({ ...good, [name]: bad });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include(expected);
      // Each message names the setting it is about (the duplicate-port one names all three lists).
      expect(problems[0]).to.include(name);
    });
  }

  it("lists bad and missing settings together, and hides the database password", () => {
    const env: Record<string, string> = { ...good, DATABASE_URL: "postgres://u:hunter2@db:5432", WEB_ORIGIN: "http://app.example.com", CHAIN_ID: "abc" };
    delete env.TRUSTED_PROXY_HOPS;
    const problems = problemsOf(env);
    expect(problems.map((p) => p.split(/[=: ]/)[0])).to.deep.equal(["DATABASE_URL", "WEB_ORIGIN", "TRUSTED_PROXY_HOPS", "CHAIN_ID"]);
    expect(problems.join("\n")).not.to.include("hunter2");
  });

  it("needs no keeper key when the deployment's keeper runs elsewhere (SERVE_KEEPER=off)", () => {
    const env: Record<string, string> = { ...good, SERVE_KEEPER: "off" };
    delete env.KEEPER_PRIVATE_KEY;
    expect(serveSettings(env)).to.deep.include({ keeper: false, keeperPrivateKey: undefined });
  });

  it("runs no indexer writer with SERVE_INDEXER_WRITER=off, but then needs replicas or INDEXER_URL", () => {
    expect(serveSettings({ ...good, SERVE_INDEXER_WRITER: "off" })).to.deep.include({ indexerWriter: false, indexerReplicaPorts: [42070] });
    expect(serveSettings({ ...good, SERVE_INDEXER_WRITER: "off", INDEXER_REPLICA_PORTS: "none", INDEXER_URL: "http://indexer.internal:42069" })).to.deep.include({ indexerWriter: false, indexerUrl: "http://indexer.internal:42069" });
    const problems = problemsOf({ ...good, SERVE_INDEXER_WRITER: "off", INDEXER_REPLICA_PORTS: "none" });
    expect(problems).to.deep.equal(["SERVE_INDEXER_WRITER=off with INDEXER_REPLICA_PORTS=none: the web instances need an indexer; give replica ports or INDEXER_URL"]);
    expect(serveSettings(good).indexerWriter).to.equal(true);
  });

  it("`npm run serve` with bad settings exits 2 listing them, before starting anything", async () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...good, WEB_ORIGIN: "ftp://x" };
    delete env.STREAMVAULT_MASTER_KEY;
    const child = spawn(process.execPath, ["scripts/serve.ts"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code, output).to.equal(2);
    expect(output).to.include("npm run serve: cannot start");
    expect(output).to.include("STREAMVAULT_MASTER_KEY is not set");
    expect(output).to.include("WEB_ORIGIN=ftp://x");
    expect(output).not.to.include("building the web app");
  });
});

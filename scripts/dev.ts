/**
 * `npm run dev`: the whole local stack with one command, on embedded defaults: anvil chain
 * (state kept in .streamvault/chain-state.json), StreamVault deployed (deployments/31337.json),
 * the local piece store and its HTTP gateway, and the indexer when it is installed. Prints the
 * URLs; Ctrl-C stops everything. `npm run dev -- --fresh` starts from an empty chain, with an empty
 * indexer database and key-release state; a new chain gets demo creators and content (`--no-demo`
 * skips them). The indexer logs only unexpected warnings and errors (no terminal UI) unless asked:
 * `npm run dev -- --indexer-log info` (or debug, trace; env INDEXER_LOG_LEVEL) shows Ponder's own log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createPublicClient, http } from "viem";
import { startAnvil } from "@streamvault/lib/chain/anvil.ts";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { DEPLOYED_CONTRACTS, deploymentPath, loadDeployment } from "@streamvault/lib/deployments";
import { LocalStore, startGateway } from "@streamvault/lib/storage";
import { PLAYS_SOURCE_FILE } from "@streamvault/lib/catalog/milestones/plays.ts";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";

const DATA = join(REPO_ROOT, ".streamvault");
const CHAIN_STATE = join(DATA, "chain-state.json");
const INDEXER_DB = join(REPO_ROOT, "indexer", ".ponder");
const KEYRELEASE_DIR = join(DATA, "keyrelease");
const fresh = process.argv.includes("--fresh");
const chainPort = Number(process.env.CHAIN_PORT ?? 8545);
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8787);
const indexerPort = Number(process.env.INDEXER_PORT ?? 42069);
const indexerLogLevel = indexerLog(process.argv, process.env.INDEXER_LOG_LEVEL);
/**
 * Ponder warnings that say nothing on the local stack and have no setting, dropped at the quiet
 * levels: anvil mines only when a transaction comes, so "no new block within 30 s" (a fixed timer)
 * fires after every idle half-minute; and `ponder dev` drops its tables and re-indexes the local
 * chain from its first block at every start by design (a second or two).
 */
const EXPECTED_INDEXER_WARNINGS = ["No new block received within expected time", "Dropped existing database tables"];

mkdirSync(DATA, { recursive: true });
if (fresh) rmSync(CHAIN_STATE, { force: true });
// A chain recreated from genesis brings back the same addresses, content ids and channel ids: the
// indexer's rows and the key-release server's state (kept vouchers, delivered minutes, plays,
// sessions) would show up for the new chain's items. Wipe both. (The key-release server also keys
// its vouchers by deployment, for chains recreated behind its back.)
const newChain = !existsSync(CHAIN_STATE);
if (newChain) {
  rmSync(INDEXER_DB, { recursive: true, force: true });
  rmSync(KEYRELEASE_DIR, { recursive: true, force: true });
}

const children: ChildProcess[] = [];
const chain = await startAnvil({ port: chainPort, statePath: CHAIN_STATE });
const env = { ...process.env, RPC_URL: chain.rpcUrl, CHAIN_ID: "31337" };

const client = createPublicClient({ transport: http(chain.rpcUrl) });
const current = existsSync(deploymentPath(31337)) ? loadDeployment(31337) : undefined;
const deployedCode = current?.contracts.ContentAccess ? await client.getCode({ address: current.contracts.ContentAccess.address }) : undefined;
// A deployment from before a contract was added (LiveStreams) is redone on the same chain: the
// indexer follows every contract. Its rows are of the old contracts, so they go too.
const outdated = current !== undefined && DEPLOYED_CONTRACTS.some((name) => !current.contracts[name]);
if (outdated) {
  console.log(`${deploymentPath(31337)} lacks ${DEPLOYED_CONTRACTS.filter((name) => !current.contracts[name]).join(", ")}: deploying StreamVault again`);
  rmSync(INDEXER_DB, { recursive: true, force: true });
}
if (newChain || !deployedCode || outdated) {
  await run("node", ["scripts/deploy.ts"], env);
  // Demo creators and content on a fresh local chain (skip with --no-demo).
  if (!process.argv.includes("--no-demo")) {
    console.log("Publishing demo creators and content (generated tracks, real pipeline)...");
    const { seedDemo } = await import("./seed-demo.ts");
    await seedDemo(chain.rpcUrl, DATA);
  }
}

const store = new LocalStore({ dir: join(DATA, "pieces"), publicUrl: `http://127.0.0.1:${gatewayPort}` });
const gateway = await startGateway({ store, port: gatewayPort, host: "127.0.0.1" });

let indexerUrl: string | undefined;
// npm workspaces hoist the indexer's and the web app's packages to the root node_modules.
const PONDER_BIN = join(REPO_ROOT, "node_modules", ".bin", "ponder");
const NEXT_BIN = join(REPO_ROOT, "node_modules", "next", "dist", "bin", "next");
if (existsSync(PONDER_BIN)) {
  indexerUrl = `http://127.0.0.1:${indexerPort}`;
  // Own process group, so stopping it also stops whatever ponder spawns.
  // Quiet by default: Ponder's per-block info lines and its terminal UI drown the other processes' output.
  const quiet = indexerLogLevel === "warn" || indexerLogLevel === "error";
  // `ponder dev` warns when indexer/.env.local is missing; the settings come from this script's
  // environment (indexer/ponder.config.ts lists them), so an empty, git-ignored one is enough.
  const envLocal = join(REPO_ROOT, "indexer", ".env.local");
  if (!existsSync(envLocal)) writeFileSync(envLocal, "# Local overrides for the indexer (settings: indexer/ponder.config.ts). Not committed.\n");
  const indexer = spawn(PONDER_BIN, ["dev", "--port", String(indexerPort), "--log-level", indexerLogLevel, ...(quiet ? ["--disable-ui"] : [])], {
    cwd: join(REPO_ROOT, "indexer"),
    // SQL over HTTP (the SDK's live dashboard) is off on PGlite unless asked; on for this one-user local stack.
    env: { INDEXER_SQL: "on", ...env, PONDER_TELEMETRY_DISABLED: "true" },
    stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    detached: true,
  });
  if (quiet) {
    for (const [from, to] of [[indexer.stdout!, process.stdout], [indexer.stderr!, process.stderr]] as const) {
      createInterface({ input: from, crlfDelay: Infinity }).on("line", (line) => {
        if (!EXPECTED_INDEXER_WARNINGS.some((w) => line.includes(w))) to.write(line + "\n");
      });
    }
  }
  children.push(indexer);
}

let webUrl: string | undefined;
// The voucher keeper asks the web app (which owns the embedded key-release database) for the kept
// vouchers with this per-run token.
const keeperToken = randomBytes(24).toString("hex");
if (existsSync(NEXT_BIN)) {
  const webPort = Number(process.env.WEB_PORT ?? 3000);
  webUrl = `http://127.0.0.1:${webPort}`;
  // Through web/server.ts as in production: the socket address for rate limits, playlists before Next.
  const web = spawn(process.execPath, ["server.ts", "dev", "--hostname", "127.0.0.1", "--port", String(webPort)], {
    cwd: join(REPO_ROOT, "web"),
    env: {
      ...env,
      PORT: String(webPort),
      WEB_ORIGIN: webUrl,
      INDEXER_URL: indexerUrl ?? "http://127.0.0.1:42069",
      STORAGE_DATA_DIR: join(DATA, "pieces"),
      KEYSTORE_DIR: join(DATA, "keys"),
      KEYRELEASE_DIR,
      KEEPER_TOKEN: keeperToken,
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: "inherit",
    detached: true,
  });
  children.push(web);
  // Redeems streamed vouchers before their channels close (lib/keeper), from the last dev account.
  const keeper = spawn(process.execPath, ["scripts/keeper.ts"], {
    cwd: REPO_ROOT,
    env: { ...env, KEEPER_PRIVATE_KEY: DEV_PRIVATE_KEYS[9], KEEPER_VOUCHERS_URL: `${webUrl}/api/keeper/vouchers`, KEEPER_TOKEN: keeperToken, DATABASE_URL: "" },
    stdio: "inherit",
    detached: true,
  });
  children.push(keeper);
}
// The milestone watcher (`streamvault watch`, home .streamvault) reads plays from the key-release
// service mounted in the web app (GET /api/plays?ids=); plays.json only when there is none.
const playsSource = join(DATA, PLAYS_SOURCE_FILE);
if (webUrl) writeFileSync(playsSource, JSON.stringify({ url: webUrl }, null, 2) + "\n");
else rmSync(playsSource, { force: true });

console.log(`
StreamVault local stack is up:
  chain (anvil, chain id 31337)  ${chain.rpcUrl}
  contracts                      ${deploymentPath(31337)}
  storage gateway                ${gateway.url}/piece/<pieceCid>
${indexerUrl ? `  indexer GraphQL                ${indexerUrl}/graphql\n` : ""}${webUrl ? `  web app                        ${webUrl}  (open exactly this address: sign-in checks it)\n  voucher keeper                 redeems streamed vouchers before their channels close\n  plays (for \`streamvault watch\`) ${webUrl}/api/plays?ids=<contentId,...>\n` : ""}Ctrl-C stops everything.`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
  }
  await gateway.close();
  await chain.stop();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

/** The indexer's log level: `--indexer-log <level>` / `--indexer-log=<level>`, else INDEXER_LOG_LEVEL, else "warn". */
function indexerLog(argv: readonly string[], fromEnv: string | undefined): string {
  const levels = ["error", "warn", "info", "debug", "trace"];
  const at = argv.findIndex((a) => a === "--indexer-log" || a.startsWith("--indexer-log="));
  const level = at < 0 ? (fromEnv || "warn") : argv[at]!.includes("=") ? argv[at]!.split("=")[1]! : (argv[at + 1] ?? "");
  if (!levels.includes(level)) {
    console.error(`indexer log level "${level}" is not one of ${levels.join(", ")}: pass e.g. \`npm run dev -- --indexer-log info\``);
    process.exit(2);
  }
  return level;
}

function run(cmd: string, args: string[], childEnv: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: childEnv, stdio: "inherit" });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}`))));
  });
}

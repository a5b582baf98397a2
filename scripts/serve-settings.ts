/**
 * The settings of the production profile (`npm run serve`, scripts/serve.ts), read from the
 * environment and checked before anything starts. Every problem is collected, so one failed start
 * lists everything to fix, each with the variable to set and what to set it to.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { contractOf, deploymentPath, loadDeployment } from "@streamvault/lib/deployments";
import { StreamVaultError } from "@streamvault/lib/errors.ts";

export interface ServeSettings {
  databaseUrl: string;
  masterKey: string;
  webOrigin: string;
  trustedProxyHops: number;
  rpcUrl: string;
  chainId: number;
  deploymentsDir: string;
  /** One `web/server.ts start` instance per port. */
  webPorts: number[];
  webHost: string;
  /** The single `ponder start` (indexer writer). */
  indexerPort: number;
  /** One `ponder serve` replica per port (may be empty). */
  indexerReplicaPorts: number[];
  indexerHost: string;
  indexerSchema: string;
  /** Run the indexer writer (`ponder start`) here: exactly one host of a deployment does. */
  indexerWriter: boolean;
  /** INDEXER_URL: the indexer the web instances read, when given (else the replicas here). */
  indexerUrl?: string;
  /** Run the voucher keeper here (exactly one per deployment). */
  keeper: boolean;
  keeperPrivateKey?: string;
}

/** Refused settings: `problems` holds one line per missing or bad setting. */
export class ServeSettingsError extends StreamVaultError {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super("bad_input", `npm run serve: cannot start, fix these settings (environment variables) first:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The production settings from `env`. Throws a {@link ServeSettingsError} listing every missing or
 * bad setting. Required: DATABASE_URL, STREAMVAULT_MASTER_KEY, WEB_ORIGIN, TRUSTED_PROXY_HOPS,
 * RPC_URL, CHAIN_ID (with its deployments file), and KEEPER_PRIVATE_KEY unless SERVE_KEEPER=off.
 */
export function serveSettings(env: NodeJS.ProcessEnv): ServeSettings {
  const problems: string[] = [];
  const value = (name: string) => (env[name] ?? "").trim();

  const databaseUrl = value("DATABASE_URL");
  if (!databaseUrl) {
    problems.push("DATABASE_URL is not set: the Postgres every instance shares, postgresql://user:password@host:5432/database (the embedded PGlite serves one process only: use `npm start` for that)");
  } else if (!/^postgres(ql)?:\/\/[^/]+\/[^/?]+/.test(databaseUrl) || !canParse(databaseUrl)) {
    problems.push(`DATABASE_URL=${redact(databaseUrl)}: must be a postgresql:// URL naming a database, e.g. postgresql://streamvault:PASSWORD@127.0.0.1:5432/streamvault`);
  }

  const masterKey = value("STREAMVAULT_MASTER_KEY");
  if (!masterKey) {
    problems.push("STREAMVAULT_MASTER_KEY is not set: 64 hex characters (`openssl rand -hex 32`), the same on every instance: it seals the content keys in the database (keep it out of the database's backups)");
  } else if (!/^[0-9a-fA-F]{64}$/.test(masterKey)) {
    problems.push(`STREAMVAULT_MASTER_KEY has ${masterKey.length} characters: must be 64 hex characters (32 bytes), e.g. from \`openssl rand -hex 32\``);
  }

  const webOrigin = value("WEB_ORIGIN");
  if (!webOrigin) {
    problems.push("WEB_ORIGIN is not set: the public origin fans open, e.g. https://app.example.com (sign-in messages and the origin of POSTs are checked against it)");
  } else if (!canParse(webOrigin)) {
    problems.push(`WEB_ORIGIN=${webOrigin}: not a URL; set the public origin, e.g. https://app.example.com`);
  } else {
    const url = new URL(webOrigin);
    if (url.origin !== webOrigin) problems.push(`WEB_ORIGIN=${webOrigin}: set the origin only (scheme, host and port, no path or trailing /): ${url.origin}`);
    else if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
      problems.push(`WEB_ORIGIN=${webOrigin}: must be https:// (http:// only on 127.0.0.1 or localhost, for trying the profile out)`);
    }
  }

  const hopsRaw = value("TRUSTED_PROXY_HOPS");
  let trustedProxyHops = 0;
  if (!hopsRaw) {
    problems.push("TRUSTED_PROXY_HOPS is not set: how many reverse proxies in front of the web instances append to X-Forwarded-For (1 behind one load balancer, 0 when clients connect directly); rate limits apply to the address that many hops from the right");
  } else if (!/^[0-9]{1,2}$/.test(hopsRaw)) {
    problems.push(`TRUSTED_PROXY_HOPS=${hopsRaw}: must be a whole number of proxies, 0 to 99 (1 behind one load balancer, 0 without one)`);
  } else {
    trustedProxyHops = Number(hopsRaw);
  }

  const rpcUrl = value("RPC_URL");
  if (!rpcUrl) problems.push("RPC_URL is not set: the JSON-RPC endpoint of the chain the contracts are deployed on, e.g. https://api.calibration.node.glif.io/rpc/v1");
  else if (!/^(https?|wss?):\/\//.test(rpcUrl) || !canParse(rpcUrl)) problems.push(`RPC_URL=${rpcUrl}: must be an http(s):// or ws(s):// URL`);

  const deploymentsDirRaw = value("DEPLOYMENTS_DIR");
  const deploymentsDir = deploymentsDirRaw ? (isAbsolute(deploymentsDirRaw) ? deploymentsDirRaw : resolve(REPO_ROOT, deploymentsDirRaw)) : join(REPO_ROOT, "deployments");
  const chainIdRaw = value("CHAIN_ID");
  let chainId = 0;
  if (!chainIdRaw) problems.push("CHAIN_ID is not set: the chain id of the deployment, 314 (Filecoin), 314159 (Calibration) or 31337 (local anvil)");
  else if (!/^[1-9][0-9]{0,15}$/.test(chainIdRaw)) problems.push(`CHAIN_ID=${chainIdRaw}: must be a positive whole number (314, 314159, 31337)`);
  else {
    chainId = Number(chainIdRaw);
    const file = deploymentPath(chainId, deploymentsDir);
    if (!existsSync(file)) problems.push(`CHAIN_ID=${chainId}: no deployment at ${file}: run \`npm run deploy\` against RPC_URL first (or set DEPLOYMENTS_DIR to the folder holding ${chainId}.json)`);
  }

  const ports = (name: string, fallback: string, allowNone: boolean): number[] => {
    const raw = value(name) || fallback;
    if (allowNone && raw === "none") return [];
    const list = raw.split(",").map((p) => p.trim());
    if (list.some((p) => !/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)) {
      problems.push(`${name}=${raw}: must be port numbers 1-65535 separated by commas${allowNone ? ', or "none"' : ""}`);
      return [];
    }
    return list.map(Number);
  };
  const webPorts = ports("WEB_PORTS", "3000", false);
  const indexerPort = ports("INDEXER_PORT", "42069", false);
  if (indexerPort.length > 1) problems.push(`INDEXER_PORT=${value("INDEXER_PORT")}: one port, the single indexer writer's (replicas go in INDEXER_REPLICA_PORTS)`);
  const indexerReplicaPorts = ports("INDEXER_REPLICA_PORTS", "42070", true);
  const all = [...webPorts, ...indexerPort.slice(0, 1), ...indexerReplicaPorts];
  const repeated = [...new Set(all.filter((p, i) => all.indexOf(p) !== i))];
  if (repeated.length > 0) problems.push(`port ${repeated.join(", ")} is given more than once across WEB_PORTS, INDEXER_PORT and INDEXER_REPLICA_PORTS: every process needs a port of its own`);

  const indexerSchema = value("DATABASE_SCHEMA") || "streamvault";
  if (!/^[a-z_][a-z0-9_]{0,44}$/.test(indexerSchema)) problems.push(`DATABASE_SCHEMA=${indexerSchema}: the indexer's Postgres schema, lower-case letters, digits and _ (at most 45, not starting with a digit)`);
  else if (indexerSchema === "keyrelease" || indexerSchema === "ponder_sync") problems.push(`DATABASE_SCHEMA=${indexerSchema}: that schema belongs to ${indexerSchema === "keyrelease" ? "key release" : "Ponder's RPC cache"}; choose another (default streamvault)`);

  const writerSetting = value("SERVE_INDEXER_WRITER") || "on";
  if (writerSetting !== "on" && writerSetting !== "off") problems.push(`SERVE_INDEXER_WRITER=${writerSetting}: "on" (default: run the deployment's one indexer writer here) or "off" (it runs on another host; only replicas here)`);
  const indexerWriter = writerSetting !== "off";
  const indexerUrl = value("INDEXER_URL") || undefined;
  if (indexerUrl && (!/^https?:\/\//.test(indexerUrl) || !canParse(indexerUrl))) problems.push(`INDEXER_URL=${indexerUrl}: must be an http(s):// URL (the indexer API the web instances read; default: the replicas on this host)`);
  if (!indexerWriter && indexerReplicaPorts.length === 0 && !indexerUrl) problems.push("SERVE_INDEXER_WRITER=off with INDEXER_REPLICA_PORTS=none: the web instances need an indexer; give replica ports or INDEXER_URL");

  const keeperSetting = value("SERVE_KEEPER") || "on";
  if (keeperSetting !== "on" && keeperSetting !== "off") problems.push(`SERVE_KEEPER=${keeperSetting}: "on" (default: run the voucher keeper here) or "off" (another host runs the deployment's one keeper)`);
  const keeper = keeperSetting !== "off";
  const keeperPrivateKey = value("KEEPER_PRIVATE_KEY") || undefined;
  if (keeper && !keeperPrivateKey) problems.push("KEEPER_PRIVATE_KEY is not set: the 0x-prefixed hex private key of a funded account for the voucher keeper (it pays the redemptions' gas; the money goes to the creators), or SERVE_KEEPER=off when the deployment's one keeper runs elsewhere");
  else if (keeper && !/^0x[0-9a-fA-F]{64}$/.test(keeperPrivateKey!)) problems.push("KEEPER_PRIVATE_KEY: must be 0x followed by 64 hex characters");

  if (problems.length > 0) throw new ServeSettingsError(problems);
  return {
    databaseUrl,
    masterKey,
    webOrigin,
    trustedProxyHops,
    rpcUrl,
    chainId,
    deploymentsDir,
    webPorts,
    webHost: value("WEB_HOST") || "127.0.0.1",
    indexerPort: indexerPort[0]!,
    indexerReplicaPorts,
    indexerHost: value("INDEXER_HOST") || "127.0.0.1",
    indexerSchema,
    indexerWriter,
    indexerUrl,
    keeper,
    keeperPrivateKey: keeper ? keeperPrivateKey : undefined,
  };
}

/**
 * The checks that need the services themselves, before any process starts: Postgres accepts the
 * connection and lets the role create schemas (the indexer and key release make their own), and
 * RPC_URL answers with CHAIN_ID and has the deployment's contracts (a chain restarted from genesis,
 * or the wrong network, has none). Throws a {@link ServeSettingsError} listing what failed.
 */
export async function checkServices(s: ServeSettings, timeoutMs = 10_000): Promise<void> {
  const [database, chain] = await Promise.all([checkDatabase(s.databaseUrl, timeoutMs), checkChain(s, timeoutMs)]);
  const problems = [...database, ...chain];
  if (problems.length > 0) throw new ServeSettingsError(problems);
}

async function checkDatabase(databaseUrl: string, timeoutMs: number): Promise<string[]> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
  // A connection that fails after connecting (server restart) must not crash the check.
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ can_create: boolean }>("SELECT has_database_privilege(current_database(), 'CREATE') AS can_create");
    if (!rows[0]?.can_create) return [`DATABASE_URL=${redact(databaseUrl)}: the role may not create schemas in this database; the indexer and key release make their own: GRANT CREATE ON DATABASE <database> TO <role>`];
    return [];
  } catch (error) {
    return [`DATABASE_URL=${redact(databaseUrl)}: cannot connect (${redact((error as Error).message) || String(error)}): start Postgres there, or fix the host, port, database, user or password`];
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkChain(s: ServeSettings, timeoutMs: number): Promise<string[]> {
  const rpc = async (method: string, params: unknown[]): Promise<unknown> => {
    const res = await fetch(s.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (body.error) throw new Error(body.error.message);
    return body.result;
  };
  let chainId: number;
  try {
    chainId = Number(BigInt(String(await rpc("eth_chainId", []))));
  } catch (error) {
    return [`RPC_URL=${s.rpcUrl}: no JSON-RPC answer (${(error as Error).message}): start the node or fix the URL`];
  }
  if (chainId !== s.chainId) return [`RPC_URL=${s.rpcUrl} is chain ${chainId}, CHAIN_ID=${s.chainId}: point RPC_URL at chain ${s.chainId}, or set CHAIN_ID=${chainId} (with its deployments/${chainId}.json)`];
  try {
    const access = contractOf(loadDeployment(s.chainId, s.deploymentsDir), "ContentAccess");
    const code = String(await rpc("eth_getCode", [access.address, "latest"]));
    if (code === "0x" || code === "") return [`${deploymentPath(s.chainId, s.deploymentsDir)} names ContentAccess at ${access.address}, but chain ${chainId} at RPC_URL has no contract there (a local chain restarted from genesis?): run \`npm run deploy\` against RPC_URL`];
  } catch (error) {
    return [`${deploymentPath(s.chainId, s.deploymentsDir)}: cannot check it against RPC_URL (${(error as Error).message}): run \`npm run deploy\` against RPC_URL`];
  }
  return [];
}

function canParse(url: string): boolean {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

/** A connection string with its password hidden, for messages that end up in logs. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, "$1***@");
}

/**
 * `node scripts/keeper.ts`: the voucher keeper process (lib/keeper). `npm start` runs one beside
 * the web app; in production (`npm run serve`) run exactly one, next to the web instances.
 *
 * Settings (environment):
 *   RPC_URL, CHAIN_ID                the chain and its deployments/<CHAIN_ID>.json
 *   KEEPER_PRIVATE_KEY               funded account that sends the redemptions (pays gas only)
 *   DATABASE_URL                     read the kept vouchers from the shared Postgres (production), or
 *   KEEPER_VOUCHERS_URL + KEEPER_TOKEN  ask the web app for them (embedded profile)
 *   KEEPER_INTERVAL_SECONDS          seconds between passes (default 60)
 *   KEEPER_CLOSE_MARGIN_SECONDS      redeem this long before a voucher's deadline (default 3600)
 *   KEEPER_THRESHOLD_FRACTION        redeem once this fraction of the deposit is unredeemed (default 0.5)
 *   KEEPER_THRESHOLD_AMOUNT          or once this many base units are (default: off)
 */
import { createPublicClient, createWalletClient, defineChain, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { openPostgres } from "@streamvault/lib/db";
import { loadDeployment } from "@streamvault/lib/deployments";
import { HttpVoucherSource, SqlVoucherSource, VoucherKeeper, type VoucherSource } from "@streamvault/lib/keeper";

/** The keeper's settings from the environment; throws one message listing every bad or missing setting. */
export function keeperSettings(env: NodeJS.ProcessEnv) {
  const problems: string[] = [];
  const number = (name: string, fallback: number, ok: (n: number) => boolean, what: string) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) problems.push(`${name}=${raw}: must be ${what}`);
    return n;
  };
  const privateKey = env.KEEPER_PRIVATE_KEY ?? "";
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) problems.push("KEEPER_PRIVATE_KEY: set it to the 0x-hex private key of a funded account (it pays the redemptions' gas; the money goes to each item's split)");
  const databaseUrl = env.DATABASE_URL || undefined;
  const vouchersUrl = env.KEEPER_VOUCHERS_URL || undefined;
  const token = env.KEEPER_TOKEN || undefined;
  if (!databaseUrl && !(vouchersUrl && token)) problems.push("set DATABASE_URL (the Postgres the web instances share) or KEEPER_VOUCHERS_URL and KEEPER_TOKEN (the web app's /api/keeper/vouchers and the token it was started with)");
  const thresholdAmountRaw = env.KEEPER_THRESHOLD_AMOUNT;
  let thresholdAmount: bigint | undefined;
  if (thresholdAmountRaw) {
    if (/^[0-9]+$/.test(thresholdAmountRaw)) thresholdAmount = BigInt(thresholdAmountRaw);
    else problems.push(`KEEPER_THRESHOLD_AMOUNT=${thresholdAmountRaw}: must be a whole number of the token's base units`);
  }
  const settings = {
    rpcUrl: env.RPC_URL ?? "http://127.0.0.1:8545",
    chainId: number("CHAIN_ID", 31337, (n) => Number.isInteger(n) && n > 0, "a chain id"),
    privateKey: privateKey as `0x${string}`,
    databaseUrl,
    vouchersUrl,
    token,
    intervalSeconds: number("KEEPER_INTERVAL_SECONDS", 60, (n) => n > 0, "a number of seconds above 0"),
    closeMarginSeconds: number("KEEPER_CLOSE_MARGIN_SECONDS", 3600, (n) => n >= 0, "a number of seconds, 0 or more"),
    thresholdFraction: number("KEEPER_THRESHOLD_FRACTION", 0.5, (n) => n > 0 && n <= 1, "a fraction in (0, 1]"),
    thresholdAmount,
  };
  if (problems.length > 0) throw new Error(`voucher keeper: cannot start:\n  - ${problems.join("\n  - ")}`);
  return settings;
}

async function main(): Promise<void> {
  let settings: ReturnType<typeof keeperSettings>;
  try {
    settings = keeperSettings(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const deployment = loadDeployment(settings.chainId);
  const chain = defineChain({ id: settings.chainId, name: `chain ${settings.chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [settings.rpcUrl] } } });
  const publicClient = createPublicClient({ chain, transport: http(settings.rpcUrl) }) as PublicClient;
  const walletClient = createWalletClient({ chain, account: privateKeyToAccount(settings.privateKey), transport: http(settings.rpcUrl) });
  const db = settings.databaseUrl ? await openPostgres(settings.databaseUrl, { max: 2 }) : undefined;
  const source: VoucherSource = db ? new SqlVoucherSource({ db, publicClient, deployment }) : new HttpVoucherSource(settings.vouchersUrl!, settings.token!);
  const log = (level: string) => (message: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ level, component: "keeper", message, ...fields }));
  const keeper = new VoucherKeeper({
    publicClient,
    walletClient,
    deployment,
    source,
    closeMarginSeconds: settings.closeMarginSeconds,
    thresholdFraction: settings.thresholdFraction,
    thresholdAmount: settings.thresholdAmount,
    logger: { info: log("info"), error: log("error") },
  });
  log("info")("voucher keeper started", { account: keeper.account, source: db ? "postgres" : settings.vouchersUrl, intervalSeconds: settings.intervalSeconds, closeMarginSeconds: settings.closeMarginSeconds });
  keeper.start(settings.intervalSeconds);
  const stop = async () => {
    await keeper.stop();
    await db?.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

/**
 * A complete local StreamVault for web tests (and for `node test/web/stack.ts` while developing):
 * anvil on a free port, the system deployed into a temp deployments dir, a launched creator, and
 * one premium track (75 s: two minute windows; `trackSeconds` for another length) run through the real media pipeline into a temp piece store with its
 * key sealed in a temp key store, registered on chain (with `exclusiveTrack`, also a 45 s exclusive
 * one; with `freeStandardTrack`, a 40 s premium one whose standard variant the creator gives away; with
 * `freeTrack`, a 45 s free-tier one anyone plays in full; with `album`, a premium album of two tracks,
 * 36 s and 34 s, sold at one price). With `databaseUrl`, the content keys are sealed in that Postgres
 * database (where web instances with DATABASE_URL read them) instead of the temp key store.
 * Returns the env the web server needs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, encodeAbiParameters, http, keccak256, parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { startAnvil, type AnvilNode } from "@streamvault/lib/chain/anvil.ts";
import { deploySystem } from "@streamvault/lib/deployments/deploy-system.ts";
import { writeDeployment, contractOf, type Deployment } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { processAlbum, processMedia, publish } from "@streamvault/lib/media";
import { LocalStore } from "@streamvault/lib/storage";
import { openKeyStore } from "@streamvault/lib/keys";
import * as Piece from "@filoz/synapse-core/piece";

export const CREATOR_KEY = DEV_PRIVATE_KEYS[1] as Hex;
export const FAN_KEY = DEV_PRIVATE_KEYS[2] as Hex;
export const NEW_CREATOR_KEY = DEV_PRIVATE_KEYS[3] as Hex;
export const STREAMER_KEY = DEV_PRIVATE_KEYS[4] as Hex;
export const PASS_PRICE = parseEther("0.01");
export const TRACK_PRICE = parseEther("0.002");
/** The creator's pay-per-minute price of every seeded track (native), set with `setStreamPrice`. */
export const STREAM_RATE = parseEther("0.0001");

export interface SeededTrack {
  contentId: Hex;
  title: string;
  manifestCid: string;
}

export interface Stack {
  anvil: AnvilNode;
  deployment: Deployment;
  dir: string;
  env: Record<string, string>;
  creator: Address;
  track: SeededTrack;
  /** With `exclusiveTrack`: a 45 s exclusive track of the same creator (high and standard both encrypted). */
  exclusive?: SeededTrack;
  /** With `freeStandardTrack`: a 40 s premium track whose creator gives the standard variant away (high encrypted, standard clear). */
  freeStandard?: SeededTrack;
  /** With `freeTrack`: a 45 s free-tier track (every variant in the clear, open to everyone). */
  free?: SeededTrack;
  /** With `album`: a premium album ("Night Drive", tracks "Dusk" 36 s and "Neon Rain" 34 s) at TRACK_PRICE. */
  album?: SeededTrack & { tracks: { title: string; seconds: number }[] };
  stop(): Promise<void>;
}

export async function startStack(options: { quiet?: boolean; exclusiveTrack?: boolean; freeStandardTrack?: boolean; freeTrack?: boolean; album?: boolean; anvilArgs?: string[]; databaseUrl?: string; trackSeconds?: number } = {}): Promise<Stack> {
  const log = options.quiet === false ? console.log : () => {};
  const dir = await mkdtemp(join(tmpdir(), "sv-web-"));
  const anvil = await startAnvil({ extraArgs: options.anvilArgs });
  const publicClient = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) });
  const wallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: foundry, transport: http(anvil.rpcUrl) });
  const deployer = wallet(DEV_PRIVATE_KEYS[0] as Hex);
  const deployment = await deploySystem({
    publicClient: publicClient as never,
    walletClient: deployer,
    subscriptionPriceNative: parseEther("0.005"),
    subscriptionPriceStable: 5_000_000n,
  });
  const deploymentsDir = join(dir, "deployments");
  writeDeployment(deployment, deploymentsDir);
  log(`deployed to ${anvil.rpcUrl}`);

  const creatorWallet = wallet(CREATOR_KEY);
  const creator = creatorWallet.account.address;
  const send = async (hash: Hex) => {
    const r = await publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== "success") throw new Error(`tx ${hash} reverted`);
  };
  const registry = contractOf(deployment, "CreatorRegistry");
  await send(
    await creatorWallet.writeContract({
      address: registry.address,
      abi: registry.abi,
      functionName: "launchCreator",
      args: [
        { name: "Nova Sound", symbol: "NOVA", supply: parseEther("1000000"), creatorAllocation: parseEther("200000") },
        { name: "Nova Backstage", symbol: "NOVAP", maxSupply: 100n, mintPrice: PASS_PRICE, mintEnabled: true, royaltyBps: 500 },
        "",
      ],
    }),
  );

  // One premium track through the real pipeline (and, when asked, an exclusive one: every full variant encrypted).
  const masterKey = "7".repeat(64);
  const piecesDir = join(dir, "pieces");
  const keysDir = join(dir, "keys");
  const store = new LocalStore({ dir: piecesDir });
  const keyStore = await openKeyStore({ dataDir: keysDir, databaseUrl: options.databaseUrl, env: { STREAMVAULT_MASTER_KEY: masterKey } });
  const access = contractOf(deployment, "ContentAccess");
  const makeNoise = async (file: string, title: string, seconds: number, seed: number) =>
    runFfmpeg([
      // Pink noise, not a pure tone: AAC then spends what each variant is meant to (a tone comes out
      // smaller at 320k than at 192k, which would turn the adaptive-bitrate ladder upside down).
      "-v", "error", "-y", "-f", "lavfi", "-i", `anoisesrc=d=${seconds}:c=pink:r=44100:a=0.3:seed=${seed}`,
      "-metadata", `title=${title}`, "-metadata", "artist=Nova",
      "-ac", "2", file,
    ]);
  const publishTrack = async (title: string, seconds: number, tier: "free" | "premium" | "exclusive", seed: number, freeStandard = false, album?: { title: string; tracks: { title: string; seconds: number }[] }): Promise<SeededTrack> => {
    const name = `${tier}-${seed}`;
    const audio = join(dir, `${name}.wav`);
    const tracks = album ? album.tracks.map((_, i) => join(dir, `${name}-t${i + 1}.wav`)) : [audio];
    for (const [i, file] of tracks.entries()) await makeNoise(file, album ? album.tracks[i]!.title : title, album ? album.tracks[i]!.seconds : seconds, seed + i);
    const hash = createHash("sha256");
    for (const file of tracks) hash.update(await readFile(file));
    const sha = hash.digest("hex");
    const externalId = keccak256(`0x${sha}`);
    const contentId = keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [creator, externalId])).toLowerCase() as Hex;
    const workDir = join(dir, `work-${name}`);
    const processed = album ? await processAlbum(tracks, { contentId, tier, workDir, album: album.title, metadata: { artist: "Nova" } }) : await processMedia(audio, { contentId, tier, workDir, freeStandard });
    const manifestCid = await publish(processed, store, { keyStore });
    await rm(join(dir, `work-${name}`), { recursive: true, force: true });
    log(`published ${manifestCid}`);
    const cidBytes = Piece.asPieceCID(manifestCid)!.bytes;
    await send(
      await creatorWallet.writeContract({
        address: access.address,
        abi: access.abi,
        functionName: "registerContent",
        args: [
          externalId,
          `0x${Buffer.from(cidBytes).toString("hex")}`,
          { free: 0, premium: 1, exclusive: 2 }[tier],
          tier === "free"
            ? { minCoinBalance: 0n, minPasses: 0n, inSubscription: false, paymentToken: "0x0000000000000000000000000000000000000000", price: 0n, duration: 0 }
            : { minCoinBalance: 0n, minPasses: 1n, inSubscription: tier === "premium", paymentToken: "0x0000000000000000000000000000000000000000", price: TRACK_PRICE, duration: 0 },
          [],
        ],
      }),
    );
    log(`registered ${contentId}`);
    // An album is sold whole on its page (no per-minute offer there), so it gets no stream price.
    if (tier === "free" || album) return { contentId, title, manifestCid };
    const channels = contractOf(deployment, "PaymentChannels");
    await send(
      await creatorWallet.writeContract({
        address: channels.address,
        abi: channels.abi,
        functionName: "setStreamPrice",
        args: [contentId, "0x0000000000000000000000000000000000000000", STREAM_RATE],
      }),
    );
    return { contentId, title, manifestCid };
  };
  let track: SeededTrack;
  let exclusive: SeededTrack | undefined;
  let freeStandard: SeededTrack | undefined;
  let free: SeededTrack | undefined;
  let album: Stack["album"];
  try {
    track = await publishTrack("Aurora Drift", options.trackSeconds ?? 75, "premium", 7);
    if (options.exclusiveTrack) exclusive = await publishTrack("Midnight Relay", 45, "exclusive", 11);
    if (options.freeStandardTrack) freeStandard = await publishTrack("Open Air Sampler", 40, "premium", 13, true);
    if (options.freeTrack) free = await publishTrack("Harbor Lights", 45, "free", 17);
    if (options.album) {
      const tracks = [{ title: "Dusk", seconds: 36 }, { title: "Neon Rain", seconds: 34 }];
      album = { ...(await publishTrack("Night Drive", 0, "premium", 19, false, { title: "Night Drive", tracks })), tracks };
    }
  } finally {
    await keyStore.close();
  }

  const env = {
    RPC_URL: anvil.rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYMENTS_DIR: deploymentsDir,
    STORAGE_DATA_DIR: piecesDir,
    STORAGE_BACKEND: "local",
    KEYSTORE_DIR: keysDir,
    KEYRELEASE_DIR: join(dir, "keyrelease"),
    // The creator tool's home: placement journal and CDN state (lib/storage/placement).
    STREAMVAULT_HOME: join(dir, "home"),
    STREAMVAULT_MASTER_KEY: masterKey,
    INDEXER_URL: "http://127.0.0.1:9", // no indexer in web tests: the app reads chain events
    NEXT_TELEMETRY_DISABLED: "1",
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  };
  return {
    anvil,
    deployment,
    dir,
    env,
    creator,
    track,
    exclusive,
    freeStandard,
    free,
    album,
    async stop() {
      await anvil.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.main) {
  const stack = await startStack({ quiet: false });
  console.log(Object.entries(stack.env).map(([k, v]) => `export ${k}=${v}`).join("\n"));
  console.log(`# content page: /content/${stack.track.contentId}`);
  process.on("SIGINT", () => void stack.stop().then(() => process.exit(0)));
  process.on("SIGTERM", () => void stack.stop().then(() => process.exit(0)));
}

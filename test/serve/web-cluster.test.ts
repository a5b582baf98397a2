/**
 * The scale test with the real web app (issue 11): two built Next instances (web/server.ts start,
 * as `npm run serve` starts them) on one Postgres database, one master key and one shared store,
 * behind the round-robin balancer of test/keyrelease/cluster.ts (TRUSTED_PROXY_HOPS=1), with
 * `ponder start` writing and two `ponder serve` replicas behind a second balancer (the web
 * instances' INDEXER_URL). Everything a fan or creator does goes through the balancer's URL over
 * HTTP, as the browser and the SDK call the routes: a SIWE nonce signs in once, the per-wallet limit
 * is one across both instances, and one instance is killed with SIGKILL while it streams minute keys
 * and holds an upload job: the stream goes on through the other, each minute and the play are
 * counted once, the best voucher is listed by the survivor's studio route and redeemed on chain,
 * and the survivor's upload worker finishes the job. Started once for the suite. Registered only
 * when TEST_DATABASE_URL is set (as the other Postgres suites); the web build is ensureBuild's.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { createPublicClient, createWalletClient, http, zeroAddress, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { freePort } from "@streamvault/lib/chain/anvil.ts";
import { cidToBytes } from "@streamvault/lib/chain/cid.ts";
import { contractOf } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import { generateEphemeralKeyPair } from "@streamvault/lib/keyrelease/wrap.ts";
import { runFfmpeg } from "@streamvault/lib/media/ffmpeg.ts";
import { newNonce, signedRequestMessage, SIGNATURE_HEADER, SIGNED_REQUEST_HEADER } from "@streamvault/lib/signed-request/index.ts";
import { freshDatabase, SERVED_BY_HEADER, startChild, type Child } from "../keyrelease/cluster.ts";
import { siweMessage } from "../keyrelease/fixture.ts";
import { startIndexer, type IndexerProcess } from "../indexer/harness.ts";
import { ensureBuild, sessionCookie, startWeb, type WebServer } from "../web/server.ts";
import { CREATOR_KEY, STREAM_RATE, startStack, type Stack } from "../web/stack.ts";

const adminUrl = process.env.TEST_DATABASE_URL;
/** Key requests per wallet per window, across both instances (KEYRELEASE_WALLET_RATE_LIMIT). */
const WALLET_LIMIT = 12;
/** 185 s: four minute windows to stream, two before the kill and two after. */
const TRACK_SECONDS = 185;
const UPLOAD_SECONDS = 150;

if (adminUrl) {
  describe("web cluster: two web instances and two ponder serve replicas behind balancers on one Postgres, one instance killed mid-stream and mid-upload", function () {
    // The first run of a checkout builds the web app (next build, minutes on 2 cores).
    this.timeout(600_000);
    const anomalies = { nonceReuse: 0, minutesDoubleCounted: 0, playsDoubleCounted: 0, lost: 0 };
    const creator = privateKeyToAccount(CREATOR_KEY);
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let stack: Stack;
    let writer: IndexerProcess;
    let replicas: IndexerProcess[] = [];
    let webs: WebServer[] = [];
    let web: Child;
    let graphqlBalancer: Child;
    let sql: pg.Client;
    let uploadFile: string;
    /** The kill test's channel, redeemed on chain: what the indexer must show. */
    let streamed: { channelId: string; redeemed: string } | undefined;

    const publicClient = () => createPublicClient({ chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const send = async (key: Hex, call: { address: Hex; abi: readonly unknown[]; functionName: string; args: readonly unknown[]; value?: bigint }) => {
      const hash = await createWalletClient({ account: privateKeyToAccount(key), chain: foundry, transport: http(stack.anvil.rpcUrl) }).writeContract(call as never);
      const receipt = await publicClient().waitForTransactionReceipt({ hash });
      expect(receipt.status, `${call.functionName} ${hash}`).to.equal("success");
      return hash;
    };
    const servedBy = (res: Response) => res.headers.get(SERVED_BY_HEADER);
    const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${web.url}${path}`, { method: "POST", headers: { "content-type": "application/json", origin: web.url, ...headers }, body: JSON.stringify(body) });

    async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    before(async function () {
      database = await freshDatabase(adminUrl, "sv_webcluster");
      [stack] = await Promise.all([startStack({ databaseUrl: database.url, trackSeconds: TRACK_SECONDS }), ensureBuild()]);
      uploadFile = join(stack.dir, "cluster-upload.wav");
      const indexerEnv = { INDEXER_LOG_LEVEL: "warn", PONDER_LOG_LEVEL: "warn" };
      // Every port is fixed before its server starts: a balancer's backends, and the web balancer's URL is the instances' WEB_ORIGIN.
      const ports = new Set<number>();
      while (ports.size < 4) ports.add(await freePort());
      const [portA, portB, ...replicaPorts] = [...ports] as [number, number, number, number];
      const indexers = (async () => {
        writer = await startIndexer({ rpcUrl: stack.anvil.rpcUrl, deploymentsDir: stack.env.DEPLOYMENTS_DIR!, databaseUrl: database.url, schema: "sv_webcluster", env: indexerEnv });
        await writer.waitReady(180_000);
        replicas = await Promise.all(replicaPorts.map((port) => startIndexer({ rpcUrl: stack.anvil.rpcUrl, deploymentsDir: stack.env.DEPLOYMENTS_DIR!, databaseUrl: database.url, schema: writer.schema, env: indexerEnv, command: "serve", port })));
        await Promise.all(replicas.map((r) => until(`ponder serve ${r.url}`, async () => ((await fetch(`${r.url}/health`)).ok ? true : undefined))));
      })();
      graphqlBalancer = await startChild({ role: "balancer", backends: replicaPorts.map((p) => `http://127.0.0.1:${p}`) });
      web = await startChild({ role: "balancer", backends: [portA, portB].map((p) => `http://127.0.0.1:${p}`) });
      const env = {
        ...stack.env,
        NODE_ENV: "production",
        TRUSTED_PROXY_HOPS: "1",
        INDEXER_URL: graphqlBalancer.url,
        KEYRELEASE_WALLET_RATE_LIMIT: String(WALLET_LIMIT),
        // Every request of this test comes from 127.0.0.1: the per-address limit out of the way.
        KEYRELEASE_IP_RATE_LIMIT: "1000000",
        // A killed worker's job is taken over after this (production: 30 s).
        UPLOAD_JOB_LEASE_MS: "6000",
      };
      const media = runFfmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", `anoisesrc=d=${UPLOAD_SECONDS}:c=pink:r=44100:a=0.3:seed=23`, "-metadata", "title=Failover Tide", "-ac", "2", uploadFile]);
      webs = await Promise.all([portA, portB].map((port) => startWeb(env, { port, origin: web.url })));
      sql = new pg.Client({ connectionString: database.url });
      await Promise.all([sql.connect(), media, indexers]);
    });

    after(async function () {
      console.log(`      web cluster anomalies: ${JSON.stringify(anomalies)}`);
      await sql?.end().catch(() => {});
      await Promise.all([...webs.map((w) => w.stop()), web?.kill(), graphqlBalancer?.kill(), ...replicas.map((r) => r.stop())]);
      await writer?.stop();
      await stack?.stop();
      await database?.drop();
    });

    it("a SIWE nonce from one instance signs in once: four verifies at once across both, one 200", async () => {
      const fan = privateKeyToAccount(DEV_PRIVATE_KEYS[6] as Hex);
      const nonce = await (await fetch(`${web.url}/api/auth/nonce`)).json();
      const message = siweMessage(nonce, fan.address);
      const signature = await fan.signMessage({ message });
      const answers = await Promise.all([0, 1, 2, 3].map(() => postJson("/api/auth/verify", { message, signature })));
      const statuses = answers.map((r) => r.status);
      expect(new Set(answers.map(servedBy)).size, "both instances verified").to.equal(2);
      anomalies.nonceReuse += Math.max(0, statuses.filter((s) => s === 200).length - 1);
      expect(statuses.filter((s) => s === 200)).to.have.length(1);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 401), statuses.join(",")).to.equal(true);
      const used = await sql.query("SELECT count(*)::int AS n FROM keyrelease.siwe_nonces WHERE nonce = $1 AND used_at IS NOT NULL", [nonce.nonce]);
      expect(used.rows[0].n).to.equal(1);
    });

    it(`the per-wallet limit is one across both instances (${WALLET_LIMIT} key requests a window, then 429 from either)`, async () => {
      const fan = DEV_PRIVATE_KEYS[8] as Hex;
      const cookie = await sessionCookie(web.url, fan);
      const client = await generateEphemeralKeyPair();
      const answers: { status: number; by: string | null }[] = [];
      // One at a time, so the count is exact; round robin alternates the instances.
      for (let i = 0; i < WALLET_LIMIT + 4; i++) {
        const res = await postJson(`/api/keys/${stack.track.contentId}`, { ephemeralPublicKey: client.publicKey }, { cookie });
        answers.push({ status: res.status, by: servedBy(res) });
        await res.body?.cancel();
      }
      // The first WALLET_LIMIT answered (not entitled: the limit applies before the access check), on both instances.
      const passed = answers.slice(0, WALLET_LIMIT);
      expect(passed.every((a) => a.status !== 429 && a.status < 500), passed.map((a) => a.status).join(",")).to.equal(true);
      expect(new Set(passed.map((a) => a.by)).size, "both instances counted").to.equal(2);
      const refused = answers.slice(WALLET_LIMIT);
      expect(refused.map((a) => a.status)).to.deep.equal([429, 429, 429, 429]);
      expect(new Set(refused.map((a) => a.by)).size, "both instances refused").to.equal(2);
    });

    it("kill -9 of the instance holding an upload job mid-stream: the stream goes on through the other, each minute and the play counted once, the voucher listed by the survivor's studio and redeemed, the job finished by the survivor's worker and registered once", async () => {
      const bound = (name: "PaymentChannels" | "ContentAccess") => {
        const { address, abi } = contractOf(stack.deployment, name);
        return { address, abi };
      };
      const channels = bound("PaymentChannels");
      const access = bound("ContentAccess");
      const viewerKey = DEV_PRIVATE_KEYS[7] as Hex;
      const viewer = privateKeyToAccount(viewerKey);
      const contentId = stack.track.contentId;

      // A fan streams: a channel at the creator's price, a session through the balancer, minute keys.
      const deposit = STREAM_RATE * 10n;
      const now = Number((await publicClient().getBlock()).timestamp);
      await send(viewerKey, {
        ...channels,
        functionName: "openChannel",
        args: [{ contentId, token: zeroAddress, deposit, ratePerMinute: STREAM_RATE, expiresAt: BigInt(now + 7 * 86_400), sessionKey: { key: zeroAddress, spendingCap: 0n, expiresAt: 0n } }],
        value: deposit,
      });
      const channelId = (await publicClient().readContract({ ...channels, functionName: "channelCount" })) as bigint;
      const cookie = await sessionCookie(web.url, viewerKey);
      /** Minute `m`'s keys on a voucher for the `paid` minutes received so far (a new minute: m + 1 here). */
      const minute = async (m: number, paid = m + 1) => {
        const client = await generateEphemeralKeyPair();
        const amount = STREAM_RATE * BigInt(paid);
        const res = await postJson(
          `/api/keys/${contentId}/stream`,
          { channelId: channelId.toString(), cumulativeAmount: amount.toString(), signature: await viewer.signTypedData(voucherTypedData(foundry.id, channels.address, channelId, amount)), ephemeralPublicKey: client.publicKey, minute: m, variants: ["high"] },
          { cookie },
        );
        const body = (await res.json()) as { minutesDelivered?: number; keys?: unknown[]; message?: string };
        if (res.status !== 200) anomalies.lost++;
        return { status: res.status, by: servedBy(res), body };
      };
      // Minutes 0 and 1, each asked twice at once (a player retrying): both instances answer.
      const before: Awaited<ReturnType<typeof minute>>[] = [];
      for (const m of [0, 1]) before.push(...(await Promise.all([minute(m), minute(m)])));
      expect(before.map((a) => a.status), before.map((a) => a.body.message).join("; ")).to.deep.equal([200, 200, 200, 200]);
      expect(new Set(before.map((a) => a.by)).size, "minutes 0-1 served by both instances").to.equal(2);

      // The creator's studio lists the best voucher (minute 1's) from either instance, whichever stored it.
      const studio = async () => {
        const res = await fetch(`${web.url}/api/studio/${creator.address}/streams`, { headers: { cookie: await sessionCookie(web.url, CREATOR_KEY) } });
        expect(res.status).to.equal(200);
        const body = (await res.json()) as { streams: { id: string; minutesDelivered: number; voucher: { cumulativeAmount: string; signature: Hex } | null; redeemable: string }[] };
        return { by: servedBy(res), stream: body.streams.find((s) => s.id === channelId.toString()) };
      };
      const listings = [await studio(), await studio()];
      expect(new Set(listings.map((l) => l.by)).size, "both studios answered").to.equal(2);
      for (const l of listings) expect(l.stream?.voucher?.cumulativeAmount).to.equal((STREAM_RATE * 2n).toString());

      // The creator's signed upload, accepted by one instance; the job is in Postgres.
      const bytes = await readFile(uploadFile);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const signed = signedRequestMessage({ action: "upload", wallet: creator.address, nonce: newNonce(), time: new Date().toISOString(), bodies: [{ size: bytes.length, sha256 }] });
      const accepted = await fetch(`${web.url}/api/upload?creator=${creator.address}&tier=free&name=failover.wav&sha256=${sha256}`, {
        method: "POST",
        headers: { [SIGNED_REQUEST_HEADER]: Buffer.from(signed).toString("base64"), [SIGNATURE_HEADER]: await creator.signMessage({ message: signed }) },
        body: bytes,
      });
      expect(accepted.status, await accepted.clone().text()).to.equal(202);
      const { jobId } = (await accepted.json()) as { jobId: string };
      expect((await sql.query("SELECT count(*)::int AS n FROM upload_jobs WHERE id = $1", [jobId])).rows[0].n).to.equal(1);
      type JobView = { state: string; attempts: number; leaseOwner: string | null; contentId: Hex; externalId: Hex; error: string | null; result: { manifestCid: string } | null };
      const jobOf = async () => ((await (await fetch(`${web.url}/api/upload/jobs/${jobId}`)).json()) as { job: JobView }).job;
      // Whichever instance's worker claimed it (owner "web:<pid>:…") is the one to kill.
      const running = await until("a worker claims the upload job", async () => {
        const job = await jobOf();
        return job.state === "running" && job.leaseOwner ? job : undefined;
      });
      const victim = webs.find((w) => running.leaseOwner!.startsWith(`web:${w.process.pid}:`));
      expect(victim, `lease owner ${running.leaseOwner}`).to.not.equal(undefined);
      const survivor = webs.find((w) => w !== victim)!;
      // Either worker may claim first (both poll the table): the one holding the lease is the one killed.
      console.log(`      upload accepted by ${servedBy(accepted)}, claimed by ${victim!.url} (killed), left to ${survivor.url}`);

      // kill -9 mid-stream and mid-upload.
      victim!.process.kill("SIGKILL");
      await new Promise((r) => victim!.process.once("exit", r));
      // Mid-job: the dead instance's lease is still on the job.
      const held = await sql.query("SELECT state, lease_owner FROM upload_jobs WHERE id = $1", [jobId]);
      expect(held.rows[0]).to.deep.equal({ state: "running", lease_owner: running.leaseOwner });
      const survivorUrl = survivor.url;

      // Minutes 2 and 3 through the survivor (the balancer retries what hits the dead one), then minute 1 again (a seek back).
      for (const m of [2, 3]) {
        const answer = await minute(m);
        expect(answer.status, answer.body.message).to.equal(200);
        expect(answer.by).to.equal(survivorUrl);
        expect(answer.body.minutesDelivered).to.equal(m + 1);
        expect(answer.body.keys?.length).to.be.greaterThan(0);
      }
      const again = await minute(1, 4);
      expect(again.status, again.body.message).to.equal(200);
      expect(again.body.minutesDelivered).to.equal(4);
      // The player's media still comes: the high playlist and a segment through the balancer (untagged: not a play of its own).
      const playlist = await (await fetch(`${web.url}/api/hls/${stack.track.manifestCid}/high.m3u8`)).text();
      const segment = await fetch(`${web.url}${playlist.split("\n").find((l) => l.startsWith("/api/piece/"))}`);
      expect(segment.status).to.equal(200);
      expect((await segment.arrayBuffer()).byteLength).to.be.greaterThan(0);

      // Counted once: the channel's released minutes, and one play.
      const ledger = await sql.query("SELECT released_minutes, delivered_segments FROM keyrelease.stream_channels WHERE channel_id = $1", [channelId.toString()]);
      expect(ledger.rows).to.have.length(1);
      const released = (ledger.rows[0].released_minutes as number[]).map(Number);
      anomalies.minutesDoubleCounted += Math.max(0, released.length - 4);
      expect([...released].sort()).to.deep.equal([0, 1, 2, 3]);
      const plays = (await (await fetch(`${web.url}/api/plays/${contentId}`)).json()) as { plays: number };
      anomalies.playsDoubleCounted += Math.max(0, plays.plays - 1);
      expect(plays.plays).to.equal(1);
      const starts = await sql.query("SELECT count(*)::int AS n FROM keyrelease.plays WHERE play_start AND content_id = $1", [contentId.toLowerCase()]);
      expect(starts.rows[0].n).to.equal(1);

      // The survivor's studio lists minute 3's voucher; the creator redeems it on chain.
      const listed = await studio();
      expect(listed.by).to.equal(survivorUrl);
      expect(listed.stream?.minutesDelivered).to.equal(4);
      expect(listed.stream?.voucher?.cumulativeAmount).to.equal((STREAM_RATE * 4n).toString());
      expect(listed.stream?.redeemable).to.equal((STREAM_RATE * 4n).toString());
      await send(CREATOR_KEY, { ...channels, functionName: "redeemVoucher", args: [channelId, STREAM_RATE * 4n, listed.stream!.voucher!.signature] });
      const onChain = (await publicClient().readContract({ ...channels, functionName: "getChannel", args: [channelId] })) as { redeemed: bigint };
      expect(onChain.redeemed).to.equal(STREAM_RATE * 4n);
      streamed = { channelId: channelId.toString(), redeemed: onChain.redeemed.toString() };

      // The job: taken over by the survivor's worker once the dead one's lease ran out, published.
      const done = await until("the survivor's worker publishes the job", async () => {
        const job = await jobOf();
        return ["published", "failed"].includes(job.state) ? job : undefined;
      }, 240_000);
      if (done.state !== "published") anomalies.lost++;
      expect(done.error, done.error ?? "").to.equal(null);
      expect(done.state).to.equal("published");
      expect(done.attempts, "claimed by the dead worker, then by the survivor's").to.equal(2);
      expect(survivor.logs.join("")).to.match(new RegExp(`upload job ${jobId} \\(failover\\.wav, attempt 2\\) taken by web:${survivor.process.pid}:`));
      // Registered on chain once by the creator's wallet, reported through the balancer.
      const txHash = await send(CREATOR_KEY, {
        ...access,
        functionName: "registerContent",
        args: [done.externalId, cidToBytes(done.result!.manifestCid), 0, { minCoinBalance: 0n, minPasses: 0n, inSubscription: false, paymentToken: zeroAddress, price: 0n, duration: 0 }, []],
      });
      const reported = await postJson(`/api/upload/jobs/${jobId}/registered`, { txHash });
      expect(reported.status, await reported.clone().text()).to.equal(200);
      expect(((await reported.json()) as { job: JobView }).job.state).to.equal("registered");
      const registrations = await publicClient().getContractEvents({ ...access, eventName: "ContentRegistered", fromBlock: 0n });
      expect(registrations.filter((l) => (l.args as { contentId?: string }).contentId?.toLowerCase() === done.contentId.toLowerCase())).to.have.length(1);
      // Playable: its manifest, a playlist and a segment (free tier: in the clear) through the balancer.
      const manifest = (await (await fetch(`${web.url}/api/manifest/${done.result!.manifestCid}`)).json()) as { variants: { name: string; playlist?: string; encrypted: boolean }[] };
      const full = manifest.variants.find((v) => v.playlist && v.name !== "preview")!;
      expect(full.encrypted).to.equal(false);
      const uploadedPlaylist = await (await fetch(`${web.url}/api/hls/${done.result!.manifestCid}/${full.playlist}.m3u8`)).text();
      const segments = uploadedPlaylist.split("\n").filter((l) => l.startsWith("/api/piece/"));
      // The whole file was processed, not a part from before the kill: the segments add up to its length.
      const seconds = uploadedPlaylist.split("\n").filter((l) => l.startsWith("#EXTINF:")).reduce((sum, l) => sum + Number.parseFloat(l.slice(8)), 0);
      expect(seconds).to.be.closeTo(UPLOAD_SECONDS, 1);
      for (const url of [segments[0], segments.at(-1)]) expect((await fetch(`${web.url}${url}`)).status, url).to.equal(200);
    });

    it("answers GraphQL from both ponder serve replicas through their balancer with what the writer indexed, and the surviving web instance reads them (INDEXER_URL)", async () => {
      expect(streamed, "the kill test's channel").to.not.equal(undefined);
      const creatorId = creator.address.toLowerCase();
      type Indexed = { creator: { contents: { totalCount: number } } | null; channels: { items: { id: string; redeemed: string }[] } };
      const query = async () => {
        const res = await fetch(`${graphqlBalancer.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: `{ creator(id: "${creatorId}") { contents { totalCount } } channels(where: { creator: "${creatorId}" }) { items { id redeemed } } }` }),
        });
        return { by: servedBy(res), body: (await res.json()) as { data?: Indexed } };
      };
      // The seeded track and the upload registered after the kill; the channel with the redemption.
      const wanted: Indexed = { creator: { contents: { totalCount: 2 } }, channels: { items: [{ id: streamed!.channelId, redeemed: streamed!.redeemed }] } };
      await until("the writer indexes the registration and the redemption", async () => (JSON.stringify((await query()).body.data) === JSON.stringify(wanted) ? true : undefined));
      const answers = [await query(), await query()];
      expect(new Set(answers.map((a) => a.by))).to.deep.equal(new Set(replicas.map((r) => r.url)));
      for (const a of answers) expect(a.body.data).to.deep.equal(wanted);
      // The studio dashboard of the surviving instance reads the replicas through their balancer.
      const res = await fetch(`${web.url}/api/studio/${creator.address}`, { headers: { cookie: await sessionCookie(web.url, CREATOR_KEY) } });
      expect(res.status).to.equal(200);
      const dashboard = (await res.json()) as { indexer: { activeStreams: { id: string; redeemed: string }[] } | null };
      expect(dashboard.indexer?.activeStreams.map(({ id, redeemed }) => ({ id, redeemed }))).to.deep.equal(wanted.channels.items);
    });

    it("logs no failed request on any web instance, and each started through web/server.ts", () => {
      for (const w of webs) {
        const log = w.logs.join("");
        expect(log).to.include("web app (start) on");
        expect(log).not.to.match(/request failed|started without web\/server\.ts|key release unavailable/);
      }
    });

    it("reports no anomalies (nonceReuse, minutesDoubleCounted, playsDoubleCounted, lost)", () => {
      expect(anomalies).to.deep.equal({ nonceReuse: 0, minutesDoubleCounted: 0, playsDoubleCounted: 0, lost: 0 });
    });
  });
}

/**
 * Two key-release service instances on one Postgres database (as behind a load balancer): every
 * piece of state that must agree is shared. Registered only when TEST_DATABASE_URL is set (CI
 * exports one; PGlite cannot be shared across processes). Each run uses its own schema.
 */
import { expect } from "chai";
import pg from "pg";
import { parseEther, type Address, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { contractOf } from "@streamvault/lib/deployments";
import { ChannelReader, voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { listRedeemableVouchers } from "@streamvault/lib/keyrelease/stream.ts";
import { generateEphemeralKeyPair } from "@streamvault/lib/keyrelease/wrap.ts";
import { signIn, siweMessage, startChainFixture, startFixtureServer, type ChainFixture } from "./fixture.ts";

const databaseUrl = process.env.TEST_DATABASE_URL;
const RATE = parseEther("0.001");

if (databaseUrl) {
  describe("key release: two instances sharing one Postgres database", function () {
    this.timeout(90_000);
    const schema = `kr_inst_${process.pid}_${Date.now() % 1_000_000}`;
    let f: ChainFixture;
    let a: KeyReleaseServer;
    let b: KeyReleaseServer;
    let item: { contentId: Hex; key: Uint8Array };
    const quiet = { info() {}, warn() {}, error() {} };

    before(async () => {
      f = await startChainFixture();
      item = await f.registerItem("instances-item");
      await f.setStreamPrice(item.contentId, RATE);
      // Instance a creates the schema; b opens the same one. Small limits to see them shared.
      const options = { databaseUrl, schema, logger: quiet, rateLimits: { wallet: { points: 4, durationSeconds: 60 }, ip: { points: 1000, durationSeconds: 60 } } };
      a = await startFixtureServer(f, options);
      b = await startFixtureServer(f, options);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await f?.stop();
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    });

    async function releaseOn(srv: KeyReleaseServer, cookie: string): Promise<number> {
      const client = await generateEphemeralKeyPair();
      const res = await fetch(`${srv.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) });
      await res.arrayBuffer();
      return res.status;
    }

    it("a SIWE nonce issued by one instance signs in once across both", async () => {
      const wallet = await f.newAccount();
      const nonce = await (await fetch(`${a.url}/api/auth/nonce`)).json();
      const message = siweMessage(nonce, wallet.address);
      const signature = await wallet.signMessage({ message });
      const body = JSON.stringify({ message, signature });
      const [onA, onB] = await Promise.all([
        fetch(`${a.url}/api/auth/verify`, { method: "POST", body }),
        fetch(`${b.url}/api/auth/verify`, { method: "POST", body }),
      ]);
      expect([onA.status, onB.status].sort()).to.deep.equal([200, 401]);
      const again = await fetch(`${b.url}/api/auth/verify`, { method: "POST", body });
      expect(((await again.json()) as { error: string }).error).to.equal("nonce_used");
    });

    it("a session from one instance is known to the other, the per-wallet limit is global, and a play is counted once", async () => {
      const cookie = await signIn(a.url, f.creator);
      // 4 key requests per wallet per minute, over both instances together.
      const statuses = [await releaseOn(a, cookie), await releaseOn(b, cookie), await releaseOn(a, cookie), await releaseOn(b, cookie), await releaseOn(a, cookie), await releaseOn(b, cookie)];
      expect(statuses).to.deep.equal([200, 200, 200, 200, 429, 429]);
      // Four releases within the play window, on two instances: one play.
      const counts = (await (await fetch(`${b.url}/api/plays/${item.contentId}`)).json()) as { plays: number; keyReleases: number };
      expect(counts).to.deep.include({ plays: 1, keyReleases: 4 });
    });

    it("a stream minute released by both instances is counted once, and the best voucher one received is visible to the other and to the keeper's query", async () => {
      const viewer: PrivateKeyAccount = await f.newAccount();
      const pc = contractOf(f.deployment, "PaymentChannels");
      const deposit = RATE * 10n;
      const channelId = await f.openChannel(viewer, item.contentId, deposit, RATE);
      const cookie = await signIn(b.url, viewer);
      const streamOn = async (srv: KeyReleaseServer, amount: bigint, minute: number) => {
        const client = await generateEphemeralKeyPair();
        const signature = await viewer.signTypedData(voucherTypedData(31337, pc.address, channelId, amount));
        const res = await fetch(`${srv.url}/api/keys/${item.contentId}/stream`, {
          method: "POST",
          headers: { cookie },
          body: JSON.stringify({ channelId: channelId.toString(), cumulativeAmount: amount.toString(), signature, ephemeralPublicKey: client.publicKey, minute, variants: ["high"] }),
        });
        return { status: res.status, body: (await res.json()) as { minutesDelivered: number } };
      };
      // Minute 0 asked on both at once, then minute 1 on a with a voucher paying minute 0.
      const [first, second] = await Promise.all([streamOn(a, RATE, 0), streamOn(b, RATE, 0)]);
      expect([first.status, second.status]).to.deep.equal([200, 200]);
      const minute1 = await streamOn(a, RATE * 2n, 1);
      expect(minute1.status).to.equal(200);
      expect(minute1.body.minutesDelivered).to.equal(2);
      const counts = (await (await fetch(`${a.url}/api/plays/${item.contentId}`)).json()) as { segments: number; minutesStreamed: number };
      // 2 minute windows x 6 segments, not 3 (minute 0 released twice).
      expect(counts.segments).to.equal(12);
      const best = await b.service.bestVouchers([channelId]);
      expect(best).to.have.length(1);
      expect(best[0]!.cumulativeAmount).to.equal(RATE * 2n);
      const redeemable = await b.service.listRedeemableVouchers();
      const mine = redeemable.find((v) => v.channelId === channelId.toString())!;
      expect(mine.viewer.toLowerCase()).to.equal((viewer.address as Address).toLowerCase());
      expect(mine.cumulativeAmount).to.equal(RATE * 2n);
      expect(mine.signature).to.equal(best[0]!.signature);
      // The keeper's standalone query on the database gives the same row.
      const standalone = await listRedeemableVouchers(a.service.db, { contract: pc.address, deployment: await new ChannelReader(f.publicClient, f.deployment).deploymentId() });
      expect(standalone.map((v) => v.channelId)).to.include(channelId.toString());
    });
  });
}

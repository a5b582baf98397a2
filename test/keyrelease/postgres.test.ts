/**
 * The key-release service on Postgres (`pg`) instead of PGlite. Registered only when TEST_DATABASE_URL
 * is set (CI exports a fresh database); each run uses its own schema and drops it afterwards.
 */
import { expect } from "chai";
import pg from "pg";
import { parseEther, type Hex } from "viem";
import { contractOf } from "@streamvault/lib/deployments";
import { voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import { generateEphemeralKeyPair, unwrapContentKey, type WrappedKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { signIn, siweMessage, startChainFixture, type ChainFixture, startFixtureServer } from "./fixture.ts";

const databaseUrl = process.env.TEST_DATABASE_URL;

if (databaseUrl) {
  describe("key release on Postgres", function () {
    this.timeout(60_000);
    const schema = `kr_test_${process.pid}_${Date.now() % 1_000_000}`;
    let f: ChainFixture;
    let srv: KeyReleaseServer;
    let item: { contentId: Hex; key: Uint8Array };

    before(async () => {
      f = await startChainFixture();
      item = await f.registerItem("pg-item");
      srv = await startFixtureServer(f, {
        databaseUrl,
        schema,
        logger: { info() {}, warn() {}, error() {} },
      });
    });
    after(async () => {
      await srv?.close();
      await f?.stop();
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    });

    async function release(cookie: string) {
      const client = await generateEphemeralKeyPair();
      const res = await fetch(`${srv.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) });
      return { status: res.status, body: (await res.json()) as { wrapped: WrappedKey; wallet: string; error: string }, privateKey: client.privateKey };
    }

    it("signs in once per nonce, refuses a wallet before its purchase and releases after it, and writes audit and play rows in its own schema", async () => {
      const buyer = await f.newAccount();
      const nonce = await (await fetch(`${srv.url}/api/auth/nonce`)).json();
      const message = siweMessage(nonce, buyer.address);
      const signature = await buyer.signMessage({ message });
      const first = await fetch(`${srv.url}/api/auth/verify`, { method: "POST", body: JSON.stringify({ message, signature }) });
      expect(first.status).to.equal(200);
      const replay = await fetch(`${srv.url}/api/auth/verify`, { method: "POST", body: JSON.stringify({ message, signature }) });
      expect(replay.status).to.equal(401);
      const cookie = first.headers.get("set-cookie")!.split(";")[0]!;

      expect((await release(cookie)).status).to.equal(403);
      await f.purchase(buyer, item.contentId);
      const ok = await release(cookie);
      expect(ok.status).to.equal(200);
      const key = await unwrapContentKey({ privateKey: ok.privateKey, wrapped: ok.body.wrapped, contentId: item.contentId, wallet: ok.body.wallet });
      expect(Buffer.from(key).equals(Buffer.from(item.key))).to.equal(true);

      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const audit = await client.query(`SELECT outcome, reason FROM ${schema}.audit_log WHERE event = 'release' ORDER BY id`);
        expect(audit.rows.map((r) => `${r.outcome}:${r.reason}`)).to.deep.equal(["denied:no_access", "allowed:purchase"]);
        const plays = await client.query(`SELECT count(*)::int AS n FROM ${schema}.plays WHERE kind = 'key-release'`);
        expect(plays.rows[0].n).to.equal(1);
      } finally {
        await client.end();
      }
      const counts = (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as { keyReleases: number; uniqueWallets: number };
      expect(counts).to.deep.include({ keyReleases: 1, uniqueWallets: 1 });
    });

    it("pay-per-minute: concurrent requests for minutes 0 and 1 on one channel are served, and the channel advances to exactly two minutes (row-level conditional update)", async () => {
      const viewer = await f.newAccount();
      const pc = contractOf(f.deployment, "PaymentChannels");
      const rate = parseEther("0.001");
      await f.setStreamPrice(item.contentId, rate);
      const channelId = await f.openChannel(viewer, item.contentId, 5n * rate, rate);
      const cookie = await signIn(srv.url, viewer);
      // One voucher paying for two minutes: minutes 0 and 1 asked for concurrently, in any order.
      const signature = await viewer.signTypedData(voucherTypedData(31337, pc.address, channelId, 2n * rate));
      const results = await Promise.all(
        [0, 1, 0, 1, 0, 1].map(async (minute) => {
          const client = await generateEphemeralKeyPair();
          const res = await fetch(`${srv.url}/api/keys/${item.contentId}/stream`, {
            method: "POST",
            headers: { cookie },
            body: JSON.stringify({ channelId: channelId.toString(), cumulativeAmount: (2n * rate).toString(), signature, ephemeralPublicKey: client.publicKey, minute, variants: ["high"] }),
          });
          return res.status;
        }),
      );
      expect(results).to.deep.equal([200, 200, 200, 200, 200, 200]);
      const row = (await srv.service.db.query<{ delivered_segments: number }>("SELECT delivered_segments FROM stream_channels WHERE channel_id = $1", [channelId.toString()])).rows[0]!;
      expect(Number(row.delivered_segments)).to.equal(12);
      const plays = (await (await fetch(`${srv.url}/api/plays/${item.contentId}`)).json()) as { segments: number };
      expect(plays.segments).to.equal(12);
    });
  });
}

/**
 * The scale test on loopback: two key-release instances (separate processes) behind a round-robin
 * balancer, sharing one Postgres. A fan signs in and streams through the balancer; one instance is
 * killed with SIGKILL mid-stream and the stream goes on through the other; every minute window is
 * counted once and the play once. Registered only when TEST_DATABASE_URL is set (as the other
 * Postgres suites): PGlite cannot be shared across processes.
 */
import { expect } from "chai";
import { parseEther } from "viem";
import { contractOf } from "@streamvault/lib/deployments";
import { voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import { generateEphemeralKeyPair, unwrapContentKey } from "@streamvault/lib/keyrelease/wrap.ts";
import { SIWE_DOMAIN, SIWE_URI, TEST_MASTER_KEY, signIn, siweMessage, startChainFixture, type ChainFixture } from "./fixture.ts";
import { freshDatabase, startChild, type Child } from "./cluster.ts";
import { openKeyStore } from "@streamvault/lib/keys";

const serverUrl = process.env.TEST_DATABASE_URL;
const RATE = parseEther("0.001");

if (serverUrl) {
  describe("key release cluster: two instances behind a balancer on one Postgres, one killed mid-stream", function () {
    this.timeout(120_000);
    let f: ChainFixture;
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let a: Child;
    let b: Child;
    let balancer: Child;
    let item: { contentId: `0x${string}`; key: Uint8Array };

    before(async () => {
      f = await startChainFixture();
      item = await f.registerItem("cluster-item");
      await f.setStreamPrice(item.contentId, RATE);
      database = await freshDatabase(serverUrl, "sv_cluster");
      const masterKeyHex = Buffer.from(TEST_MASTER_KEY).toString("hex");
      const keys = await openKeyStore({ databaseUrl: database.url, masterKey: TEST_MASTER_KEY, env: {} });
      await keys.putKey(item.contentId, item.key);
      await keys.close();
      const config = { role: "instance" as const, databaseUrl: database.url, masterKeyHex, rpcUrl: f.anvil.rpcUrl, chainId: f.chain.id, deployment: f.deployment, siwe: { domain: SIWE_DOMAIN, uri: SIWE_URI } };
      a = await startChild(config);
      b = await startChild(config);
      balancer = await startChild({ role: "balancer", backends: [a.url, b.url] });
    });
    after(async () => {
      await Promise.all([a, b, balancer].filter(Boolean).map((c) => c.kill()));
      await f?.stop();
      await database?.drop();
    });

    it("a nonce from one instance signs in once across both (four verifies at once, one 200)", async () => {
      const account = await f.newAccount();
      const nonce = await (await fetch(`${a.url}/api/auth/nonce`)).json();
      const message = siweMessage(nonce, account.address);
      const body = JSON.stringify({ message, signature: await account.signMessage({ message }) });
      const statuses = await Promise.all([a, b, a, b].map((c) => fetch(`${c.url}/api/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body }).then((r) => r.status)));
      expect(statuses.filter((s) => s === 200)).to.have.length(1);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 401)).to.equal(true);
    });

    it("streams through the balancer, goes on when an instance is killed mid-stream, and counts each minute and the play once", async () => {
      const viewer = await f.newAccount();
      const pc = contractOf(f.deployment, "PaymentChannels");
      const deposit = RATE * 10n;
      const channelId = await f.openChannel(viewer, item.contentId, deposit, RATE);
      const cookie = await signIn(balancer.url, viewer);
      const minute = async (m: number) => {
        const client = await generateEphemeralKeyPair();
        const amount = RATE * BigInt(m + 1);
        const res = await fetch(`${balancer.url}/api/keys/${item.contentId}/stream`, {
          method: "POST",
          headers: { cookie },
          body: JSON.stringify({ channelId: channelId.toString(), cumulativeAmount: amount.toString(), signature: await viewer.signTypedData(voucherTypedData(f.chain.id, pc.address, channelId, amount)), ephemeralPublicKey: client.publicKey, minute: m, variants: ["high"] }),
        });
        return { status: res.status, body: (await res.json()) as { minutesDelivered?: number; message?: string } };
      };
      const plays = async () => (await (await fetch(`${a.url}/api/plays/${item.contentId}`)).json()) as { plays: number; segments: number };
      // Minutes 0-3 alternate over both instances (round robin), each asked twice (a player retrying).
      for (let m = 0; m < 4; m++) {
        const [first, again] = await Promise.all([minute(m), minute(m)]);
        expect([first.status, again.status], first.body.message).to.deep.equal([200, 200]);
      }
      const perWindow = (await plays()).segments / 4;
      expect(perWindow).to.be.greaterThan(0);
      await b.kill("SIGKILL");
      // Minutes 4-6 go on through the survivor; the balancer retries what hit the dead one.
      for (let m = 4; m < 7; m++) {
        const answer = await minute(m);
        expect(answer.status, answer.body.message).to.equal(200);
        expect(answer.body.minutesDelivered).to.equal(m + 1);
      }
      const after = await plays();
      expect(after.segments).to.equal(perWindow * 7); // 7 windows, none counted twice
      expect(after.plays).to.equal(1);
      // A key release through the balancer still unwraps to the stored key.
      const fan = f.creator;
      const fanCookie = await signIn(balancer.url, fan);
      const client = await generateEphemeralKeyPair();
      const res = await fetch(`${balancer.url}/api/keys/${item.contentId}`, { method: "POST", headers: { cookie: fanCookie }, body: JSON.stringify({ ephemeralPublicKey: client.publicKey }) });
      const body = (await res.json()) as { wrapped: never; wallet: string };
      expect(res.status).to.equal(200);
      const key = await unwrapContentKey({ privateKey: client.privateKey, wrapped: body.wrapped, contentId: item.contentId, wallet: body.wallet });
      expect(Buffer.from(key).equals(Buffer.from(item.key))).to.equal(true);
    });
  });
}

/**
 * Issue 10 #5: `npm run dev -- --fresh` recreates the chain from genesis, and the same deployer
 * brings back the same contract addresses, content ids and channel ids. The key-release server's
 * stream state (best voucher, delivered minutes) of the old chain must not show up on the new one.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { openPglite } from "@streamvault/lib/db";
import { contractOf } from "@streamvault/lib/deployments";
import { DEV_PRIVATE_KEYS } from "@streamvault/lib/deployments/dev-accounts.ts";
import { voucherTypedData } from "@streamvault/lib/keyrelease/channels.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import type { StreamReleaseResponse } from "@streamvault/lib/keyrelease/service.ts";
import { generateEphemeralKeyPair } from "@streamvault/lib/keyrelease/wrap.ts";
import { signIn, startChainFixture, startFixtureServer, type ChainFixture } from "./fixture.ts";

const RATE = parseEther("0.001");
const quiet = { info() {}, warn() {}, error() {} };

describe("key release: a chain recreated from genesis starts with fresh stream state", function () {
  this.timeout(120_000);
  // The same wallet as viewer on both chains (a dev account, as the demo seed uses).
  const viewer = privateKeyToAccount(DEV_PRIVATE_KEYS[2]);
  let dataDir: string;
  const cleanup: (() => Promise<unknown>)[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sv-keyrelease-fresh-"));
  });
  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A chain with the item on sale per minute and one channel of `viewer`; the server on `dataDir`. */
  async function chainWithChannel(
    dir = dataDir,
    beforeServer?: (f: ChainFixture, contentId: Hex, channelId: bigint) => Promise<void>,
  ): Promise<{ f: ChainFixture; srv: KeyReleaseServer; contentId: Hex; channelId: bigint; cookie: string }> {
    const f = await startChainFixture();
    cleanup.push(() => f.stop());
    const { contentId } = await f.registerItem("fresh-chain-item");
    await f.setStreamPrice(contentId, RATE);
    const channelId = await f.openChannel(viewer, contentId, 5n * RATE, RATE);
    await beforeServer?.(f, contentId, channelId);
    const srv = await startFixtureServer(f, { dataDir: dir, logger: quiet });
    cleanup.push(() => srv.close());
    return { f, srv, contentId, channelId, cookie: await signIn(srv.url, viewer) };
  }

  async function stream(srv: KeyReleaseServer, f: ChainFixture, cookie: string, contentId: Hex, channelId: bigint, amount: bigint, minute: number) {
    const signature = await viewer.signTypedData(voucherTypedData(31337, contractOf(f.deployment, "PaymentChannels").address, channelId, amount));
    const res = await fetch(`${srv.url}/api/keys/${contentId}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ channelId: channelId.toString(), cumulativeAmount: amount.toString(), signature, ephemeralPublicKey: (await generateEphemeralKeyPair()).publicKey, minute, variants: ["high"] }),
    });
    const body = (await res.json()) as StreamReleaseResponse;
    expect(res.status, JSON.stringify(body)).to.equal(200);
    return { body, signature };
  }

  it("the old chain's best voucher and delivered minutes do not appear for the new chain's channel of the same id", async () => {
    const a = await chainWithChannel();
    const paidOnA = await stream(a.srv, a.f, a.cookie, a.contentId, a.channelId, 3n * RATE, 3);
    // Minute 3 is the first minute received on the channel (paid ahead here: 3 x rate).
    expect(paidOnA.body.minutesDelivered).to.equal(1);
    const keptOnA = await a.srv.service.bestVouchers([a.channelId]);
    expect(keptOnA.map((v) => [v.channelId, v.cumulativeAmount, v.signature, v.deliveredSegments])).to.deep.equal([[a.channelId.toString(), 3n * RATE, paidOnA.signature, 6]]);
    await a.srv.close();
    await a.f.stop();

    // npm run dev -- --fresh: a new chain, the same deployer, the same data directory.
    const b = await chainWithChannel();
    // The collision the issue describes: same addresses, same content id, same channel id.
    expect(contractOf(b.f.deployment, "PaymentChannels").address).to.equal(contractOf(a.f.deployment, "PaymentChannels").address);
    expect(b.contentId).to.equal(a.contentId);
    expect(b.channelId).to.equal(a.channelId);

    // What the creator's studio lists for the new channel: nothing received yet.
    expect(await b.srv.service.bestVouchers([b.channelId])).to.deep.equal([]);
    const first = await stream(b.srv, b.f, b.cookie, b.contentId, b.channelId, RATE, 1);
    expect(first.body.minutesDelivered, "minutes delivered on the new channel only").to.equal(1);
    const kept = await b.srv.service.bestVouchers([b.channelId]);
    expect(kept.map((v) => [v.channelId, v.cumulativeAmount, v.signature, v.deliveredSegments])).to.deep.equal([[b.channelId.toString(), RATE, first.signature, 6]]);
  });

  it("a voucher kept by the previous version (no deployment recorded) stays listed on its chain, and streaming continues from it", async () => {
    const legacyDir = await mkdtemp(join(tmpdir(), "sv-keyrelease-legacy-"));
    cleanup.push(() => rm(legacyDir, { recursive: true, force: true }));
    let legacySignature: Hex | undefined;
    const c = await chainWithChannel(legacyDir, async (f, contentId, channelId) => {
      // The table as the previous version created and filled it: keyed by (contract, channel_id) only.
      const address = contractOf(f.deployment, "PaymentChannels").address;
      legacySignature = await viewer.signTypedData(voucherTypedData(31337, address, channelId, RATE));
      const db = await openPglite(legacyDir);
      try {
        await db.query("CREATE SCHEMA keyrelease");
        await db.query("SET search_path TO keyrelease");
        await db.query(`CREATE TABLE stream_channels (
          contract TEXT NOT NULL, channel_id TEXT NOT NULL, content_id TEXT NOT NULL, viewer TEXT NOT NULL,
          rate_per_minute NUMERIC(78, 0) NOT NULL, delivered_segments INTEGER NOT NULL DEFAULT 0,
          last_amount NUMERIC(78, 0) NOT NULL DEFAULT 0, last_signature TEXT, updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
          PRIMARY KEY (contract, channel_id))`);
        await db.query("INSERT INTO stream_channels (contract, channel_id, content_id, viewer, rate_per_minute, delivered_segments, last_amount, last_signature) VALUES ($1, $2, $3, $4, $5, 12, $6, $7)", [
          address.toLowerCase(), channelId.toString(), contentId.toLowerCase(), viewer.address, RATE.toString(), RATE.toString(), legacySignature,
        ]);
      } finally {
        await db.close();
      }
    });
    const kept = await c.srv.service.bestVouchers([c.channelId]);
    expect(kept.map((v) => [v.channelId, v.cumulativeAmount, v.signature, v.deliveredSegments])).to.deep.equal([[c.channelId.toString(), RATE, legacySignature, 12]]);
    // Minute 0 again: the two minutes delivered before the upgrade (0 and 1) still count, and are owed.
    const again = await stream(c.srv, c.f, c.cookie, c.contentId, c.channelId, 2n * RATE, 0);
    expect(again.body.minutesDelivered).to.equal(2);
    const paid = await stream(c.srv, c.f, c.cookie, c.contentId, c.channelId, 3n * RATE, 2);
    expect(paid.body.minutesDelivered).to.equal(3);
    expect((await c.srv.service.bestVouchers([c.channelId])).map((v) => [v.cumulativeAmount, v.signature])).to.deep.equal([[3n * RATE, paid.signature]]);
  });
});

/**
 * BackupRegistry: delegates, anchoring (by the creator and by delegates), every validation
 * revert, the history views and the BackupAnchored event (including the PieceCID bytes).
 */
import { expect } from "chai";
import { parseEventLogs, sha256, toHex, type Address, type Hex } from "viem";
import { SAMPLE_CID, addr, deployFixture, networkHelpers, viem } from "./fixture.ts";

const { time, loadFixture } = networkHelpers;

const Trigger = { Manual: 0, FollowerMilestone: 1, PlayMilestone: 2, RevenueMilestone: 3, Quarterly: 4 } as const;
const MAX_UINT136 = 2n ** 136n - 1n;
const ZERO_DIGEST: Hex = `0x${"00".repeat(32)}`;

async function backupsFixture() {
  return deployFixture();
}

type F = Awaited<ReturnType<typeof backupsFixture>>;
type Wallet = F["creator"];

const snapshotBytes = (label: string) => toHex(`catalogue snapshot: ${label}`);
const DIGEST = sha256(snapshotBytes("first"));
const DIGEST2 = sha256(snapshotBytes("second"));
/** A second, different PieceCID-shaped value. */
const CID2: Hex = toHex(new Uint8Array(39).map((_, i) => (i * 13 + 5) & 0xff));

function anchor(
  f: F,
  by: Wallet,
  opts: {
    creator?: Address;
    pieceCid?: Hex;
    digest?: Hex;
    size?: bigint;
    trigger?: number;
    milestone?: bigint;
  } = {},
) {
  return f.backups.write.anchorBackup(
    [
      opts.creator ?? addr(f.creator),
      opts.pieceCid ?? SAMPLE_CID,
      opts.digest ?? DIGEST,
      opts.size ?? 4_096n,
      opts.trigger ?? Trigger.Manual,
      opts.milestone ?? 0n,
    ],
    { account: by.account },
  );
}

describe("BackupRegistry", () => {
  describe("setDelegate / isDelegate", () => {
    it("allows and disallows a delegate, per creator, with DelegateUpdated", async () => {
      const f = await loadFixture(backupsFixture);
      const service = addr(f.deployer);
      expect(await f.backups.read.isDelegate([addr(f.creator), service])).to.equal(false);
      await viem.assertions.emitWithArgs(
        f.backups.write.setDelegate([service, true], { account: f.creator.account }),
        f.backups,
        "DelegateUpdated",
        [addr(f.creator), service, true],
      );
      expect(await f.backups.read.isDelegate([addr(f.creator), service])).to.equal(true);
      // Scoped to the creator who set it; not symmetric.
      expect(await f.backups.read.isDelegate([addr(f.fan), service])).to.equal(false);
      expect(await f.backups.read.isDelegate([service, addr(f.creator)])).to.equal(false);
      await viem.assertions.emitWithArgs(
        f.backups.write.setDelegate([service, false], { account: f.creator.account }),
        f.backups,
        "DelegateUpdated",
        [addr(f.creator), service, false],
      );
      expect(await f.backups.read.isDelegate([addr(f.creator), service])).to.equal(false);
    });

    it("is idempotent and independent per delegate", async () => {
      const f = await loadFixture(backupsFixture);
      await f.backups.write.setDelegate([addr(f.deployer), true], { account: f.creator.account });
      await f.backups.write.setDelegate([addr(f.deployer), true], { account: f.creator.account });
      await f.backups.write.setDelegate([addr(f.collab1), true], { account: f.creator.account });
      await f.backups.write.setDelegate([addr(f.collab1), false], { account: f.creator.account });
      expect(await f.backups.read.isDelegate([addr(f.creator), addr(f.deployer)])).to.equal(true);
      expect(await f.backups.read.isDelegate([addr(f.creator), addr(f.collab1)])).to.equal(false);
    });
  });

  describe("anchorBackup", () => {
    it("by the creator: stores the snapshot and emits every field, including the PieceCID bytes", async () => {
      const f = await loadFixture(backupsFixture);
      const { result } = await f.backups.simulate.anchorBackup(
        [addr(f.creator), SAMPLE_CID, DIGEST, 4_096n, Trigger.Manual, 0n],
        { account: addr(f.creator) },
      );
      expect(result).to.equal(0n);
      const t = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(t);
      const hash = await anchor(f, f.creator);
      await viem.assertions.emitWithArgs(hash, f.backups, "BackupAnchored", [
        addr(f.creator),
        0n,
        addr(f.creator),
        SAMPLE_CID,
        DIGEST,
        4_096n,
        Trigger.Manual,
        0n,
      ]);
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
      const [log] = parseEventLogs({ abi: f.backups.abi, eventName: "BackupAnchored", logs: receipt.logs });
      expect(log.args.pieceCid).to.equal(SAMPLE_CID);
      expect((log.args.pieceCid.length - 2) / 2).to.equal(41);
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(1n);
      expect(await f.backups.read.backupAt([addr(f.creator), 0n])).to.deep.equal({
        sha256Digest: DIGEST,
        size: 4_096n,
        anchoredAt: Number(t),
        trigger: Trigger.Manual,
        milestoneValue: 0n,
      });
    });

    it("by an approved delegate: anchors into the creator's history with anchoredBy = delegate", async () => {
      const f = await loadFixture(backupsFixture);
      const service = f.deployer;
      await f.backups.write.setDelegate([addr(service), true], { account: f.creator.account });
      await anchor(f, f.creator);
      const hash = await anchor(f, service, {
        pieceCid: CID2,
        digest: DIGEST2,
        size: 123_456_789n,
        trigger: Trigger.FollowerMilestone,
        milestone: 10_000n,
      });
      await viem.assertions.emitWithArgs(hash, f.backups, "BackupAnchored", [
        addr(f.creator),
        1n,
        addr(service),
        CID2,
        DIGEST2,
        123_456_789n,
        Trigger.FollowerMilestone,
        10_000n,
      ]);
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(2n);
      expect(await f.backups.read.backupCount([addr(service)])).to.equal(0n);
      const snap = await f.backups.read.backupAt([addr(f.creator), 1n]);
      expect(snap.sha256Digest).to.equal(DIGEST2);
      expect(snap.trigger).to.equal(Trigger.FollowerMilestone);
      expect(snap.milestoneValue).to.equal(10_000n);
    });

    it("reverts NotAuthorized for strangers, other creators' delegates and after revocation", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        anchor(f, f.stranger),
        f.backups,
        "NotAuthorized",
        [addr(f.creator), addr(f.stranger)],
      );
      // A delegate of someone else is not a delegate of this creator.
      await f.backups.write.setDelegate([addr(f.stranger), true], { account: f.fan.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        anchor(f, f.stranger),
        f.backups,
        "NotAuthorized",
        [addr(f.creator), addr(f.stranger)],
      );
      await anchor(f, f.stranger, { creator: addr(f.fan) });
      // Approved, then revoked.
      await f.backups.write.setDelegate([addr(f.deployer), true], { account: f.creator.account });
      await anchor(f, f.deployer);
      await f.backups.write.setDelegate([addr(f.deployer), false], { account: f.creator.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        anchor(f, f.deployer),
        f.backups,
        "NotAuthorized",
        [addr(f.creator), addr(f.deployer)],
      );
      // The creator can never anchor into a delegate's history by being trusted the other way round.
      await viem.assertions.revertWithCustomErrorWithArgs(
        anchor(f, f.creator, { creator: addr(f.deployer) }),
        f.backups,
        "NotAuthorized",
        [addr(f.deployer), addr(f.creator)],
      );
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(1n);
      expect(await f.backups.read.backupCount([addr(f.fan)])).to.equal(1n);
    });

    it("checks authorisation before the payload", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomError(
        anchor(f, f.stranger, { pieceCid: "0x", digest: ZERO_DIGEST, size: 0n }),
        f.backups,
        "NotAuthorized",
      );
    });

    it("reverts EmptyPieceCid", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomError(anchor(f, f.creator, { pieceCid: "0x" }), f.backups, "EmptyPieceCid");
      // One byte is enough for the contract (the PieceCID is not parsed on-chain).
      await anchor(f, f.creator, { pieceCid: "0x01" });
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(1n);
    });

    it("reverts ZeroDigest", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomError(
        anchor(f, f.creator, { digest: ZERO_DIGEST }),
        f.backups,
        "ZeroDigest",
      );
    });

    it("reverts ZeroSize", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomError(anchor(f, f.creator, { size: 0n }), f.backups, "ZeroSize");
      await anchor(f, f.creator, { size: 1n });
      expect((await f.backups.read.backupAt([addr(f.creator), 0n])).size).to.equal(1n);
    });

    it("reverts MilestoneTooLarge above uint136 (the maximum itself is stored)", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        anchor(f, f.creator, { trigger: Trigger.RevenueMilestone, milestone: MAX_UINT136 + 1n }),
        f.backups,
        "MilestoneTooLarge",
        [MAX_UINT136 + 1n],
      );
      await anchor(f, f.creator, { trigger: Trigger.RevenueMilestone, milestone: MAX_UINT136 });
      expect((await f.backups.read.backupAt([addr(f.creator), 0n])).milestoneValue).to.equal(MAX_UINT136);
      // uint64 size at its maximum fits too.
      await anchor(f, f.creator, { size: 2n ** 64n - 1n });
      expect((await f.backups.read.backupAt([addr(f.creator), 1n])).size).to.equal(2n ** 64n - 1n);
    });

    it("records every trigger and rejects an out-of-range one", async () => {
      const f = await loadFixture(backupsFixture);
      for (const trigger of Object.values(Trigger)) {
        await anchor(f, f.creator, { trigger, milestone: BigInt(trigger) * 1_000n });
      }
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(5n);
      for (const trigger of Object.values(Trigger)) {
        const snap = await f.backups.read.backupAt([addr(f.creator), BigInt(trigger)]);
        expect(snap.trigger).to.equal(trigger);
        expect(snap.milestoneValue).to.equal(BigInt(trigger) * 1_000n);
      }
      await viem.assertions.revert(anchor(f, f.creator, { trigger: 5 }));
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(5n);
    });
  });

  describe("views", () => {
    it("backupCount counts per creator; backupAt returns each snapshot in order", async () => {
      const f = await loadFixture(backupsFixture);
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(0n);
      const digests = ["a", "b", "c"].map((l) => sha256(snapshotBytes(l)));
      for (const [i, digest] of digests.entries()) {
        await anchor(f, f.creator, { digest, size: BigInt(1_000 + i) });
      }
      await anchor(f, f.fan, { creator: addr(f.fan), digest: DIGEST2 });
      expect(await f.backups.read.backupCount([addr(f.creator)])).to.equal(3n);
      expect(await f.backups.read.backupCount([addr(f.fan)])).to.equal(1n);
      for (const [i, digest] of digests.entries()) {
        const snap = await f.backups.read.backupAt([addr(f.creator), BigInt(i)]);
        expect(snap.sha256Digest).to.equal(digest);
        expect(snap.size).to.equal(BigInt(1_000 + i));
      }
      expect((await f.backups.read.backupAt([addr(f.fan), 0n])).sha256Digest).to.equal(DIGEST2);
    });

    it("backupAt reverts IndexOutOfRange", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.backups.read.backupAt([addr(f.creator), 0n]),
        f.backups,
        "IndexOutOfRange",
        [0n, 0n],
      );
      await anchor(f, f.creator);
      await anchor(f, f.creator, { digest: DIGEST2 });
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.backups.read.backupAt([addr(f.creator), 2n]),
        f.backups,
        "IndexOutOfRange",
        [2n, 2n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.backups.read.backupAt([addr(f.creator), 2n ** 256n - 1n]),
        f.backups,
        "IndexOutOfRange",
        [2n ** 256n - 1n, 2n],
      );
    });

    it("latest reverts NoBackups, then returns the newest snapshot and its index", async () => {
      const f = await loadFixture(backupsFixture);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.backups.read.latest([addr(f.creator)]),
        f.backups,
        "NoBackups",
        [addr(f.creator)],
      );
      await anchor(f, f.creator);
      let [index, snap] = await f.backups.read.latest([addr(f.creator)]);
      expect(index).to.equal(0n);
      expect(snap.sha256Digest).to.equal(DIGEST);
      await anchor(f, f.creator, { digest: DIGEST2, trigger: Trigger.Quarterly });
      [index, snap] = await f.backups.read.latest([addr(f.creator)]);
      expect(index).to.equal(1n);
      expect(snap).to.deep.equal(await f.backups.read.backupAt([addr(f.creator), 1n]));
      expect(snap.sha256Digest).to.equal(DIGEST2);
      expect(snap.trigger).to.equal(Trigger.Quarterly);
      // Other creators are unaffected.
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.backups.read.latest([addr(f.fan)]),
        f.backups,
        "NoBackups",
        [addr(f.fan)],
      );
    });
  });
});

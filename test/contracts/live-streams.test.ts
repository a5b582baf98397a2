/**
 * LiveStreams: a creator starts and ends the live stream of their own item (events, the state
 * view, the duration measured on chain), and every refusal: unknown content, not the creator,
 * starting twice, starting again after the end, ending a stream that is not live.
 */
import { expect } from "chai";
import { keccak256, toHex, zeroAddress } from "viem";
import { LIVE_STATUS } from "@streamvault/lib/deployments";
import { addr, deployFixture, networkHelpers, register, viem } from "./fixture.ts";

const { time, loadFixture } = networkHelpers;

async function liveFixture() {
  const f = await deployFixture();
  const contentId = await register(f, "live/gig");
  return { ...f, contentId };
}

describe("LiveStreams", () => {
  it("is wired to ContentAccess and refuses a zero address", async () => {
    const f = await loadFixture(liveFixture);
    expect(await f.liveStreams.read.contentAccess()).to.equal(f.contentAccess.address);
    await viem.assertions.revertWithCustomError(viem.deployContract("LiveStreams", [zeroAddress]), f.liveStreams, "ZeroAddress");
  });

  it("starts and ends the creator's stream: events, state and duration from the chain's clock", async () => {
    const f = await loadFixture(liveFixture);
    expect(await f.liveStreams.read.streamOf([f.contentId])).to.deep.equal({ status: LIVE_STATUS.none, startedAt: 0, endedAt: 0, segments: 0 });
    expect(await f.liveStreams.read.isLive([f.contentId])).to.equal(false);

    await viem.assertions.emitWithArgs(
      f.liveStreams.write.startLive([f.contentId], { account: f.creator.account }),
      f.liveStreams,
      "LiveStarted",
      [f.contentId, addr(f.creator)],
    );
    const startedAt = await time.latest();
    expect(await f.liveStreams.read.isLive([f.contentId])).to.equal(true);
    expect(await f.liveStreams.read.streamOf([f.contentId])).to.deep.equal({ status: LIVE_STATUS.live, startedAt, endedAt: 0, segments: 0 });

    await time.setNextBlockTimestamp(startedAt + 125);
    await viem.assertions.emitWithArgs(
      f.liveStreams.write.endLive([f.contentId, 62], { account: f.creator.account }),
      f.liveStreams,
      "LiveEnded",
      [f.contentId, addr(f.creator), 62, 125],
    );
    expect(await f.liveStreams.read.isLive([f.contentId])).to.equal(false);
    expect(await f.liveStreams.read.streamOf([f.contentId])).to.deep.equal({ status: LIVE_STATUS.ended, startedAt, endedAt: startedAt + 125, segments: 62 });
  });

  it("keeps streams of different items apart", async () => {
    const f = await loadFixture(liveFixture);
    const other = await register(f, "live/other", { creator: f.fan });
    await f.liveStreams.write.startLive([f.contentId], { account: f.creator.account });
    await f.liveStreams.write.startLive([other], { account: f.fan.account });
    await f.liveStreams.write.endLive([f.contentId, 3], { account: f.creator.account });
    expect(await f.liveStreams.read.isLive([f.contentId])).to.equal(false);
    expect(await f.liveStreams.read.isLive([other])).to.equal(true);
  });

  it("refuses unknown content", async () => {
    const f = await loadFixture(liveFixture);
    const unknown = keccak256(toHex("never registered"));
    await viem.assertions.revertWithCustomErrorWithArgs(
      f.liveStreams.write.startLive([unknown], { account: f.creator.account }),
      f.liveStreams,
      "UnknownContent",
      [unknown],
    );
    await viem.assertions.revertWithCustomErrorWithArgs(
      f.liveStreams.write.endLive([unknown, 1], { account: f.creator.account }),
      f.liveStreams,
      "UnknownContent",
      [unknown],
    );
  });

  it("refuses anyone but the item's creator, to start and to end", async () => {
    const f = await loadFixture(liveFixture);
    await viem.assertions.revertWithCustomErrorWithArgs(
      f.liveStreams.write.startLive([f.contentId], { account: f.stranger.account }),
      f.liveStreams,
      "NotContentCreator",
      [f.contentId, addr(f.stranger)],
    );
    // Nor the platform owner, nor a backup delegate of the creator: ContentAccess has no content delegates.
    await f.backups.write.setDelegate([addr(f.deployer), true], { account: f.creator.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      f.liveStreams.write.startLive([f.contentId], { account: f.deployer.account }),
      f.liveStreams,
      "NotContentCreator",
      [f.contentId, addr(f.deployer)],
    );
    await f.liveStreams.write.startLive([f.contentId], { account: f.creator.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      f.liveStreams.write.endLive([f.contentId, 1], { account: f.stranger.account }),
      f.liveStreams,
      "NotContentCreator",
      [f.contentId, addr(f.stranger)],
    );
    expect(await f.liveStreams.read.isLive([f.contentId])).to.equal(true);
  });

  it("refuses starting twice, starting after the end, and ending a stream that is not live", async () => {
    const f = await loadFixture(liveFixture);
    const as = { account: f.creator.account };
    await viem.assertions.revertWithCustomErrorWithArgs(f.liveStreams.write.endLive([f.contentId, 1], as), f.liveStreams, "NotLive", [f.contentId, LIVE_STATUS.none]);
    await f.liveStreams.write.startLive([f.contentId], as);
    await viem.assertions.revertWithCustomErrorWithArgs(f.liveStreams.write.startLive([f.contentId], as), f.liveStreams, "AlreadyLive", [f.contentId]);
    await f.liveStreams.write.endLive([f.contentId, 4], as);
    await viem.assertions.revertWithCustomErrorWithArgs(f.liveStreams.write.startLive([f.contentId], as), f.liveStreams, "AlreadyEnded", [f.contentId]);
    await viem.assertions.revertWithCustomErrorWithArgs(f.liveStreams.write.endLive([f.contentId, 5], as), f.liveStreams, "NotLive", [f.contentId, LIVE_STATUS.ended]);
    expect((await f.liveStreams.read.streamOf([f.contentId])).segments).to.equal(4);
  });
});

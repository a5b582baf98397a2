/** LiveStreams: which items are live now and which were (one row per item, as the contract keeps it). */
import { ponder } from "ponder:registry";
import { liveStream } from "ponder:schema";
import { lc } from "./lib/util";

ponder.on("LiveStreams:LiveStarted", async ({ event, context }) => {
  await context.db.insert(liveStream).values({
    id: lc(event.args.contentId),
    creator: lc(event.args.creator),
    state: "live",
    startedAt: event.block.timestamp,
    startedBlock: event.block.number,
    startedTx: event.transaction.hash,
  });
});

ponder.on("LiveStreams:LiveEnded", async ({ event, context }) => {
  await context.db.update(liveStream, { id: lc(event.args.contentId) }).set({
    state: "ended",
    segments: event.args.segments,
    duration: BigInt(event.args.duration),
    endedAt: event.block.timestamp,
    endedBlock: event.block.number,
    endedTx: event.transaction.hash,
  });
});

/** BackupRegistry: catalogue backup history and delegates. */
import { ponder } from "ponder:registry";
import { backup, backupDelegate } from "ponder:schema";
import { countDaily } from "./lib/daily";
import { cidToString, lc, nameOf, TRIGGER_NAMES } from "./lib/util";

ponder.on("BackupRegistry:BackupAnchored", async ({ event, context }) => {
  await context.db.insert(backup).values({
    creator: lc(event.args.creator),
    index: event.args.index,
    anchoredBy: lc(event.args.anchoredBy),
    pieceCid: lc(event.args.pieceCid),
    pieceCidString: cidToString(event.args.pieceCid),
    sha256Digest: lc(event.args.sha256Digest),
    size: event.args.size,
    trigger: event.args.trigger,
    triggerName: nameOf(TRIGGER_NAMES, event.args.trigger),
    milestoneValue: event.args.milestoneValue,
    block: event.block.number,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
  await countDaily(context.db, event.block.timestamp, "backupsAnchored");
});

ponder.on("BackupRegistry:DelegateUpdated", async ({ event, context }) => {
  const block = event.block.number;
  await context.db
    .insert(backupDelegate)
    .values({ creator: lc(event.args.creator), delegate: lc(event.args.delegate), allowed: event.args.allowed, updatedBlock: block })
    .onConflictDoUpdate({ allowed: event.args.allowed, updatedBlock: block });
});

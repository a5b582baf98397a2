/**
 * The web app's reading of a live stream's record (web/lib/server/live.ts). The record is re-read at
 * most every 100 ms; a streaming process that writes its last record ("complete") and exits inside
 * that window must not read as interrupted on the copy read before it.
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { liveDir, type LiveState } from "@streamvault/lib/live/status.ts";
import { STREAMVAULT_HOME } from "../../web/lib/server/config.ts";
import { liveStatusOf } from "../../web/lib/server/live.ts";

describe("web: a live stream's record", function () {
  it("a stream that ended and whose process exited within the re-read window reads as ended, not interrupted", async function () {
    const id = `record-test-${process.pid}-${Date.now()}`;
    const dir = liveDir(STREAMVAULT_HOME, id);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "state.json");
    const streamer = spawn("sleep", ["30"], { stdio: "ignore" });
    const crashed = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const exited = new Promise((resolve) => streamer.once("exit", resolve));
      const record: LiveState = {
        id,
        input: "rtmp",
        tier: "premium",
        title: "record test",
        contentId: `0x${"11".repeat(32)}`,
        externalId: `0x${"22".repeat(32)}`,
        status: "recording",
        pid: streamer.pid,
        startedAt: new Date().toISOString(),
        inputBytes: 0,
        chunks: [],
      };
      writeFileSync(file, JSON.stringify(record));
      expect((await liveStatusOf(id))!.state).to.equal("starting");
      // The process writes its last record and exits; the next read comes well inside 100 ms.
      writeFileSync(
        file,
        JSON.stringify({
          ...record,
          status: "complete",
          endedAt: new Date().toISOString(),
          inputBytes: 1,
        })
      );
      streamer.kill("SIGKILL");
      await exited;
      expect((await liveStatusOf(id))!.state).to.equal("ended");
      // A process that is gone without a last record is interrupted.
      writeFileSync(file, JSON.stringify({ ...record, pid: crashed.pid }));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect((await liveStatusOf(id))!.state).to.equal("starting");
      crashed.kill("SIGKILL");
      await new Promise((resolve) => crashed.once("exit", resolve));
      expect((await liveStatusOf(id))!.state).to.equal("interrupted");
    } finally {
      streamer.kill("SIGKILL");
      crashed.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The supervisor of `npm run serve` (scripts/serve-supervisor.ts) with real processes: one dying
 * stops the others, grandchildren included, and exits 1; stop(0) (SIGTERM to serve) stops every
 * process group, SIGKILLing what ignores SIGTERM after the grace period.
 */
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { Supervisor } from "../../scripts/serve-supervisor.ts";

/** A node process that says "ready <pid of a grandchild>" once its SIGTERM handler (if any) is set. */
const PROGRAM = (ignoreSigterm: boolean) => `
  const { spawn } = require("node:child_process");
  const grandchild = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e6)"], { stdio: "ignore" });
  ${ignoreSigterm ? 'process.on("SIGTERM", () => {});' : ""}
  setInterval(() => {}, 1e6);
  console.log("ready " + grandchild.pid);
`;

/** Every process the tests started, killed in after() should a test fail half-way. */
const started: number[] = [];

function ready(child: ChildProcess): Promise<number> {
  started.push(child.pid!);
  return new Promise((resolve) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m) {
        started.push(Number(m[1]));
        resolve(Number(m[1]));
      }
    });
  });
}

/** Whether `pid` runs (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits a little for `pid` to go: a signalled process takes a moment to die. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(String(child.signalCode ?? child.exitCode)) : child.once("exit", (code, signal) => resolve(String(signal ?? code)))));
}

describe("npm run serve: supervisor", function () {
  this.timeout(30_000);
  const messages: string[] = [];
  const log = { info: (m: string) => messages.push(m), error: (m: string) => messages.push(m) };
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  });

  it("stops the others, grandchildren too, and exits 1 when one process dies", async () => {
    let exitCode: number | undefined;
    let resolveExit!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExit = resolve));
    const supervisor = new Supervisor({ graceMs: 5_000, stdio: "pipe", log, exit: (code) => ((exitCode = code), resolveExit()) });
    const web = supervisor.start("web (:1)", ["-e", PROGRAM(false)], tmpdir(), process.env);
    const indexer = supervisor.start("indexer writer", ["-e", PROGRAM(false)], tmpdir(), process.env);
    const [webGrandchild] = await Promise.all([ready(web), ready(indexer)]);
    expect(alive(webGrandchild)).to.equal(true);
    process.kill(indexer.pid!, "SIGKILL");
    await exited;
    expect(exitCode).to.equal(1);
    expect(await exitOf(web)).to.equal("SIGTERM");
    expect(await gone(webGrandchild), "the web process's own child is stopped with its group").to.equal(true);
    expect(messages.some((m) => /^npm run serve: indexer writer \(pid \d+\) exited \(SIGKILL\); stopping the others$/.test(m))).to.equal(true);
  });

  it("stop(0) stops every process, SIGKILL for one that ignores SIGTERM after the grace period", async () => {
    let exitCode: number | undefined;
    let resolveExit!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExit = resolve));
    const supervisor = new Supervisor({ graceMs: 500, stdio: "pipe", log, exit: (code) => ((exitCode = code), resolveExit()) });
    const polite = supervisor.start("web (:2)", ["-e", PROGRAM(false)], tmpdir(), process.env);
    const stubborn = supervisor.start("voucher keeper", ["-e", PROGRAM(true)], tmpdir(), process.env);
    const [, stubbornGrandchild] = await Promise.all([ready(polite), ready(stubborn)]);
    void supervisor.stop(0);
    await exited;
    expect(exitCode).to.equal(0);
    expect(await exitOf(polite)).to.equal("SIGTERM");
    expect(await exitOf(stubborn)).to.equal("SIGKILL");
    // The grandchild of the process that ignored SIGTERM got the group's SIGTERM and is gone too.
    expect(await gone(stubbornGrandchild)).to.equal(true);
    // A process that exits while stopping is not reported as a failure.
    expect(messages.filter((m) => m.includes("web (:2)") && m.includes("exited"))).to.deep.equal([]);
  });
});

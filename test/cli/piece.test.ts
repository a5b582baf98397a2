/** `streamvault piece-cid`: PieceCIDs of local files as uploads address them, equal to the SDK's reference. */
import { expect } from "chai";
import * as Piece from "@filoz/synapse-core/piece";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { runCli, tempDir } from "./helpers.ts";
import { seededBytes } from "../piece/helpers.ts";

describe("CLI piece-cid", function () {
  this.timeout(120_000);

  it("prints each file's PieceCID (JSON), refuses a tiny file with what to do, pads it on --pad", async () => {
    const dir = await tempDir("sv-piece-");
    const big = seededBytes(3_000_000, "cli-big");
    const tiny = seededBytes(40, "cli-tiny");
    await writeFile(path.join(dir, "big.bin"), big);
    await writeFile(path.join(dir, "tiny.bin"), tiny);
    const run = await runCli(["piece-cid", "--json", path.join(dir, "big.bin"), path.join(dir, "tiny.bin")], {});
    expect(run.code, run.stderr).to.equal(1); // one of two failed
    const out = JSON.parse(run.stdout) as { path: string; files: { bytes: number; pieceCid?: string; error?: string }[] };
    expect(out.files[0]).to.include({ bytes: 3_000_000, pieceCid: Piece.calculate(big).toString() });
    expect(out.files[1]!.error).to.match(/under 127 bytes.*--pad/);

    const padded = new Uint8Array(127);
    padded.set(tiny);
    const pad = await runCli(["piece-cid", "--json", "--pad", path.join(dir, "tiny.bin")], {});
    expect(pad.code, pad.stderr).to.equal(0);
    expect((JSON.parse(pad.stdout) as typeof out).files[0]!.pieceCid).to.equal(Piece.calculate(padded).toString());

    const missing = await runCli(["piece-cid", path.join(dir, "nope.bin")], {});
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/nope\.bin: no such file/);
  });
});

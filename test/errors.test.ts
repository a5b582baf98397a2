/**
 * lib/errors.ts: one table from error code to HTTP status and CLI exit code, the library's error
 * classes filed under it, and code checks that work across two loaded copies of the module (the
 * web server has the library both bundled and loaded by Node).
 */
import { expect } from "chai";
import { ERROR_CODES, StreamVaultError, errorCodeForStatus, errorCodeOf, errorResponse, exitCodeOf, hasErrorCode, httpStatusOf } from "@streamvault/lib/errors.ts";
import { EXIT, CliError } from "../cli/context.ts";
import { ChainUnavailableError } from "@streamvault/lib/catalog/chain/client.ts";
import { NoBackupError, SnapshotIntegrityError } from "@streamvault/lib/catalog/backup/snapshot.ts";
import { MediaIngestError } from "@streamvault/lib/media/errors.ts";
import { KeyConflictError } from "@streamvault/lib/keys";
import { PieceNotFoundError, RangeNotSatisfiableError } from "@streamvault/lib/storage/types.ts";
import { InvalidPublicKeyError } from "@streamvault/lib/keyrelease/wrap.ts";

describe("errors: one code -> HTTP status and exit code table", () => {
  it("the CLI's documented exit codes are the table's", () => {
    expect(EXIT.USAGE).to.equal(2).and.to.equal(ERROR_CODES.bad_input.exit);
    expect(EXIT.UNAVAILABLE).to.equal(3).and.to.equal(ERROR_CODES.unavailable.exit);
    expect(EXIT.NOT_FOUND).to.equal(4).and.to.equal(ERROR_CODES.not_found.exit);
    expect(EXIT.INTEGRITY).to.equal(5).and.to.equal(ERROR_CODES.integrity.exit);
    expect(EXIT.BUSY).to.equal(6).and.to.equal(ERROR_CODES.busy.exit);
    expect(new CliError("x", "busy").exitCode).to.equal(6);
  });

  it("library errors carry their code, status and exit code", () => {
    const cases: [StreamVaultError, string, number, number][] = [
      [new PieceNotFoundError("bafk", "local"), "not_found", 404, 4],
      [new NoBackupError("no backup"), "not_found", 404, 4],
      [new SnapshotIntegrityError("sha mismatch"), "integrity", 409, 5],
      [new ChainUnavailableError("rpc down"), "unavailable", 503, 3],
      [new MediaIngestError("a.wav", "corrupt", "bad header"), "bad_input", 400, 2],
      [new KeyConflictError("0x01"), "conflict", 409, 6],
      [new RangeNotSatisfiableError({ start: 10, end: 20 }, 5), "range_not_satisfiable", 416, 2],
      [new InvalidPublicKeyError("not a point"), "bad_input", 400, 2],
    ];
    for (const [error, code, status, exit] of cases) {
      expect(error, error.name).to.be.instanceOf(StreamVaultError).and.to.be.instanceOf(Error);
      expect([error.code, error.httpStatus, error.exitCode, httpStatusOf(error), exitCodeOf(error)], error.name).to.deep.equal([code, status, exit, status, exit]);
    }
    // Subclass checks stay exact: a NoBackupError is no PieceNotFoundError.
    expect(new NoBackupError("x")).not.to.be.instanceOf(PieceNotFoundError);
    expect(new PieceNotFoundError("bafk", "local").name).to.equal("PieceNotFoundError");
  });

  it("anything that is not a StreamVaultError is a 500 and exit 1, its message kept out of HTTP answers", async () => {
    const plain = new Error("secret path /root/x");
    expect([errorCodeOf(plain), httpStatusOf(plain), exitCodeOf(plain), exitCodeOf("thrown string")]).to.deep.equal([undefined, 500, 1, 1]);
    // An object that only looks like one (a code field) is not one.
    expect(errorCodeOf(Object.assign(new Error("x"), { code: "not_found" }))).to.equal(undefined);
    const hidden = errorResponse(plain);
    expect(hidden.status).to.equal(500);
    expect(await hidden.text()).not.to.contain("secret");
    const shown = errorResponse(new SnapshotIntegrityError("snapshot bytes do not match the anchor"));
    expect(shown.status).to.equal(409);
    expect(await shown.json()).to.deep.equal({ error: "integrity", message: "snapshot bytes do not match the anchor" });
  });

  it("codes are recognised from another loaded copy of the module (no instanceof across copies needed)", async () => {
    const copy = (await import(new URL("../lib/errors.ts?second-copy", import.meta.url).href)) as typeof import("@streamvault/lib/errors.ts");
    expect(copy.StreamVaultError).not.to.equal(StreamVaultError);
    const foreign = new copy.StreamVaultError("not_found", "piece not found");
    expect(foreign instanceof StreamVaultError).to.equal(true);
    expect(hasErrorCode(foreign, "not_found")).to.equal(true);
    expect(copy.hasErrorCode(new PieceNotFoundError("bafk", "local"), "not_found")).to.equal(true);
    expect(httpStatusOf(foreign)).to.equal(404);
  });

  it("every status key release answers with files back under a code of that status", () => {
    for (const status of [400, 401, 402, 403, 404, 409, 429, 500, 503]) {
      expect(ERROR_CODES[errorCodeForStatus(status)].status, String(status)).to.equal(status);
    }
    expect(errorCodeForStatus(418)).to.equal("internal");
  });
});

import { expect } from "chai";
import { cidFromBytes, cidToBytes } from "@streamvault/lib/chain/cid.ts";
import { computePieceCid } from "@streamvault/lib/storage/piece.ts";
import { hasErrorCode } from "@streamvault/lib/errors.ts";

describe("PieceCID <-> on-chain bytes", () => {
  it("round-trips a real PieceCID v2", async () => {
    const cid = String(await computePieceCid(new Uint8Array(300).fill(7)));
    const bytes = cidToBytes(cid);
    expect(bytes.startsWith("0x01")).to.equal(true); // CIDv1
    expect(cidFromBytes(bytes)).to.equal(cid);
  });

  it("never throws on arbitrary on-chain bytes (readers must not crash), but parsing a bad string does", () => {
    expect(cidFromBytes("0x")).to.equal("");
    expect(cidFromBytes("0xff00")).to.equal("b74aa");
    expect(() => cidToBytes("not-a-cid")).to.throw();
  });

  it("reads raw bytes as well as hex, and a bad CID string is a bad_input error that says what to pass", async () => {
    const cid = String(await computePieceCid(new Uint8Array(300).fill(9)));
    const hex = cidToBytes(cid);
    expect(cidFromBytes(Buffer.from(hex.slice(2), "hex"))).to.equal(cid);
    expect(cidFromBytes(new Uint8Array())).to.equal("");
    let error: unknown;
    try {
      cidToBytes("bafk-not-base32!");
    } catch (err) {
      error = err;
    }
    expect(hasErrorCode(error, "bad_input")).to.equal(true);
    expect((error as Error).message).to.match(/not a CID: "bafk-not-base32!".*PieceCID/);
  });
});

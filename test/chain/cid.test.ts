import { expect } from "chai";
import { cidFromBytes, cidToBytes } from "../../lib/chain/cid.ts";
import { computePieceCid } from "../../lib/storage/piece.ts";

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
});

import { expect } from "chai";
import { bufferAheadSeconds, choosePreload, qualityOrder, readDeviceHints } from "../../sdk/src/preload.ts";

describe("player preload strategy (device and connection aware)", () => {
  it("buffers only the preview on save-data or 2G", () => {
    expect(choosePreload({ saveData: true, effectiveType: "4g" })).to.equal("preview-only");
    expect(choosePreload({ effectiveType: "2g" })).to.equal("preview-only");
    expect(choosePreload({ effectiveType: "slow-2g" })).to.equal("preview-only");
  });

  it("buffers the first minute on 3G, a slow downlink or a small device", () => {
    expect(choosePreload({ effectiveType: "3g" })).to.equal("first-minute");
    expect(choosePreload({ effectiveType: "4g", downlinkMbps: 0.8 })).to.equal("first-minute");
    expect(choosePreload({ deviceMemoryGb: 1 })).to.equal("first-minute");
  });

  it("buffers the full track on a good connection or without hints", () => {
    expect(choosePreload({ effectiveType: "4g", downlinkMbps: 20, deviceMemoryGb: 8 })).to.equal("full-track");
    expect(choosePreload({})).to.equal("full-track");
  });

  it("maps strategies to buffer lengths and quality order", () => {
    expect(bufferAheadSeconds("preview-only", 200)).to.equal(10);
    expect(bufferAheadSeconds("first-minute", 200)).to.equal(60);
    expect(bufferAheadSeconds("full-track", 200.2)).to.equal(201);
    expect(bufferAheadSeconds("full-track", 30)).to.equal(60);
    expect(qualityOrder("full-track")[0]).to.equal("high");
    expect(qualityOrder("first-minute")[0]).to.equal("standard");
  });

  it("reads the Network Information and Device Memory APIs when present", () => {
    expect(readDeviceHints({ connection: { saveData: true, effectiveType: "3g", downlink: 1.2 }, deviceMemory: 4 })).to.deep.equal({
      saveData: true,
      effectiveType: "3g",
      downlinkMbps: 1.2,
      deviceMemoryGb: 4,
    });
    expect(readDeviceHints(undefined)).to.deep.equal({ saveData: undefined, effectiveType: undefined, downlinkMbps: undefined, deviceMemoryGb: undefined });
  });
});

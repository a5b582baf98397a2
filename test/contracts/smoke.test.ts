import { expect } from "chai";
import { deployFixture, networkHelpers, launch } from "./fixture.ts";

describe("smoke", () => {
  it("deploys and launches", async () => {
    const f = await networkHelpers.loadFixture(deployFixture);
    const { coin, pass } = await launch(f);
    expect(await coin.read.name()).to.equal("Aria Coin");
    expect(await coin.read.symbol()).to.equal("ARIA");
    expect(await pass.read.name()).to.equal("Aria Pass");
  });
});

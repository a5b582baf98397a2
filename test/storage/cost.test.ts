import { expect } from "chai";
import {
  DEFAULT_PRICE_LIST,
  TIB,
  creatorMonthlyCost,
  formatUsdfc,
  itemMonthlyCost,
  suggestPlacement,
} from "@streamvault/lib/storage/cost.ts";
import type { MediaItem } from "@streamvault/lib/storage/cost.ts";

const GIB = 2 ** 30;
const close = (a: number, b: number) => expect(a).to.be.closeTo(b, 1e-12);

describe("storage cost model", function () {
  describe("suggestPlacement", function () {
    it("hot content goes on the CDN with default copies", () => {
      const p = suggestPlacement({ id: "hit", bytes: GIB, playsPerMonth: 5000 });
      expect(p).to.include({ tier: "hot", copies: 2, cdn: true });
      expect(p.reasons.join(" ")).to.match(/CDN/);
    });

    it("cold content gets fewer copies and no CDN", () => {
      expect(suggestPlacement({ id: "old", bytes: GIB, playsPerMonth: 1 })).to.include({ tier: "cold", copies: 1, cdn: false });
    });

    it("exclusive content gets more copies, even when cold", () => {
      expect(suggestPlacement({ id: "vip", bytes: GIB, playsPerMonth: 0, exclusive: true })).to.include({
        tier: "cold",
        copies: 3,
        cdn: false,
      });
      expect(suggestPlacement({ id: "vip-hit", bytes: GIB, playsPerMonth: 1000, exclusive: true })).to.include({
        copies: 3,
        cdn: true,
      });
    });

    it("thresholds are inclusive for hot and exclusive for cold, and the policy is overridable", () => {
      expect(suggestPlacement({ id: "a", bytes: 1, playsPerMonth: 100 }).tier).to.equal("hot");
      expect(suggestPlacement({ id: "b", bytes: 1, playsPerMonth: 99 }).tier).to.equal("warm");
      expect(suggestPlacement({ id: "c", bytes: 1, playsPerMonth: 5 }).tier).to.equal("warm");
      expect(suggestPlacement({ id: "d", bytes: 1, playsPerMonth: 4 }).tier).to.equal("cold");
      expect(suggestPlacement({ id: "e", bytes: 1, playsPerMonth: 10 }, { hotPlaysPerMonth: 10, defaultCopies: 4 })).to.include({
        tier: "hot",
        copies: 4,
      });
    });
  });

  describe("itemMonthlyCost", function () {
    it("storage is size x price x copies (1 TiB, 2 copies = 5 USDFC)", () => {
      const c = itemMonthlyCost({ id: "x", bytes: TIB, playsPerMonth: 0 }, { copies: 2, cdn: false });
      close(c.storage, 5);
      expect(c.egress).to.equal(0);
      close(c.total, 5);
    });

    it("CDN egress is bytes served x (egress + cache-miss share), up to 14 USDFC/TiB", () => {
      const item: MediaItem = { id: "x", bytes: GIB, playsPerMonth: 1024, fractionPerPlay: 0.5 };
      // 1 GiB x 1024 plays x 0.5 = 0.5 TiB served
      const worst = itemMonthlyCost(item, { copies: 1, cdn: true });
      close(worst.egress, 0.5 * 14);
      const warmCache = itemMonthlyCost(item, { copies: 1, cdn: true }, DEFAULT_PRICE_LIST, 0.1);
      close(warmCache.egress, 0.5 * (7 + 0.7));
      // Without CDN, provider retrieval is not metered.
      expect(itemMonthlyCost(item, { copies: 1, cdn: false }).egress).to.equal(0);
    });

    it("uses a supplied price list", () => {
      const prices = { ...DEFAULT_PRICE_LIST, storagePerTiBMonth: 10 };
      close(itemMonthlyCost({ id: "x", bytes: TIB / 2, playsPerMonth: 0 }, { copies: 3, cdn: false }, prices).storage, 15);
    });

    it("rejects negative sizes or plays", () => {
      expect(() => itemMonthlyCost({ id: "bad", bytes: -1, playsPerMonth: 0 }, { copies: 1, cdn: false })).to.throw(RangeError);
      expect(() => itemMonthlyCost({ id: "bad", bytes: 1, playsPerMonth: Number.NaN }, { copies: 1, cdn: false })).to.throw(RangeError);
    });
  });

  describe("creatorMonthlyCost", function () {
    it("sums items and adds the per-data-set minimum for small catalogues", () => {
      const items: MediaItem[] = [
        { id: "single", bytes: 50 * 2 ** 20, playsPerMonth: 20 }, // warm: 2 copies, no CDN
        { id: "hit", bytes: 100 * 2 ** 20, playsPerMonth: 1000 }, // hot: 2 copies + CDN
        { id: "demo", bytes: 10 * 2 ** 20, playsPerMonth: 0 }, // cold: 1 copy
      ];
      const c = creatorMonthlyCost(items);
      expect(c.items.map((i) => [i.id, i.placement.copies, i.placement.cdn])).to.deep.equal([
        ["single", 2, false],
        ["hit", 2, true],
        ["demo", 1, false],
      ]);
      // Data sets: plain copy 0 + plain copy 1 + cdn copy 0 + cdn copy 1.
      expect(c.dataSets).to.equal(4);
      const storage = ((50 * 2 + 100 * 2 + 10) * 2 ** 20 * 2.5) / TIB;
      close(c.storage, storage);
      const egress = ((100 * 2 ** 20 * 1000) / TIB) * 14;
      close(c.egress, egress);
      // Every data set here is far below 0.06/month, so each is topped up to the minimum.
      const dsRates = [60, 50, 100, 100].map((mib) => (mib * 2 ** 20 * 2.5) / TIB);
      close(c.minimumTopUp, dsRates.reduce((a, r) => a + (0.06 - r), 0));
      close(c.total, c.storage + c.egress + c.minimumTopUp);
    });

    it("large catalogues pay no minimum top-up", () => {
      const c = creatorMonthlyCost([{ id: "archive", bytes: 10 * TIB, playsPerMonth: 10 }]);
      expect(c.minimumTopUp).to.equal(0);
      close(c.total, 10 * 2.5 * 2);
    });

    it("an empty catalogue costs nothing", () => {
      expect(creatorMonthlyCost([])).to.deep.equal({ items: [], storage: 0, egress: 0, minimumTopUp: 0, dataSets: 0, total: 0 });
    });
  });

  it("formatUsdfc keeps small amounts readable", () => {
    expect(formatUsdfc(0)).to.equal("0 USDFC");
    expect(formatUsdfc(12.345)).to.equal("12.35 USDFC");
    expect(formatUsdfc(0.0048828125)).to.equal("0.00488 USDFC");
  });
});

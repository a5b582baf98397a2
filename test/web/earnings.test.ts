/**
 * The studio's earnings breakdown (web/lib/server/earnings.ts) from credit rows shaped like the
 * indexer's: a sale split into the 3% platform fee, a collaborator's share and the creator's rest,
 * a pay-per-minute redemption and a channel close with a refund, a stablecoin sale, two UTC days.
 * Every line must add up (gross = fee + collaborators + net), the per-day and per-release lines
 * must sum to the totals, and the totals must end in credited - withdrawn. Pure functions, no servers.
 */
import { expect } from "chai";
import { formatUnits, parseUnits } from "viem";
import { ROLE } from "@streamvault/lib/deployments/contract-types.ts";
import { csvField, earningsBreakdown, earningsCsv, earningsCsvFilename, explain, paymentsOf, percentOf, type CreditRow, type EarningsLine } from "streamvault-web/lib/server/earnings.ts";

const CREATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const COLLABORATOR = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
const TREASURY = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const VIEWER = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65";
const OTHER_CREATOR = "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc";
const ETH = "0x0000000000000000000000000000000000000000";
const USD = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const TRACK = `0x${"a1".repeat(32)}`;
const SINGLE = `0x${"b2".repeat(32)}`;
const THEIRS = `0x${"c3".repeat(32)}`;
const FEE_BPS = 300n;
const COLLAB_BPS = 2_000n;
const DAY1 = Date.UTC(2026, 11, 1, 10, 0, 0) / 1000;
const DAY2 = Date.UTC(2026, 11, 2, 23, 59, 59) / 1000; // the last second of the day stays on that day

/** RevenueLedger._distribute as the contract does it: fee first, collaborators' bps of the rest, the creator the remainder. */
function split(amount: bigint, collaboratorBps: bigint) {
  const fee = (amount * FEE_BPS) / 10_000n;
  const collaborator = ((amount - fee) * collaboratorBps) / 10_000n;
  return { fee, collaborator, creator: amount - fee - collaborator };
}

function credit(ledger: string, tx: string, timestamp: number, payee: string, token: string, contentId: string, role: number, amount: bigint): CreditRow {
  return { ledger, payee: payee.toLowerCase(), token, contentId, role, amount: amount.toString(), timestamp: String(timestamp), tx: `0x${tx.padStart(64, "0")}` };
}

/** The credits of one split payment in one transaction, in the contract's order. */
function payment(ledger: string, tx: string, timestamp: number, token: string, contentId: string, amount: bigint, collaborator?: string, creator = CREATOR): CreditRow[] {
  const s = split(amount, collaborator ? COLLAB_BPS : 0n);
  return [
    credit(ledger, tx, timestamp, TREASURY, token, contentId, ROLE.platform, s.fee),
    ...(collaborator ? [credit(ledger, tx, timestamp, collaborator, token, contentId, ROLE.collaborator, s.collaborator)] : []),
    credit(ledger, tx, timestamp, creator, token, contentId, ROLE.creator, s.creator),
  ];
}

const SALE = parseUnits("0.002", 18);
const MINUTES = parseUnits("0.0002", 18); // two minutes at 0.0001
const FINAL = parseUnits("0.0001", 18); // the final voucher redeemed by closeChannel
const DEPOSIT_LEFT = parseUnits("0.0007", 18); // refunded to the viewer by the same close
const OWN_REFUND = parseUnits("0.0003", 18); // the creator's own channel on someone else's track
const USD_SALE = parseUnits("4.99", 6);
const WITHDRAWN = parseUnits("0.001", 18);

const credits: CreditRow[] = [
  // day 1: a sale of TRACK with a 20% collaborator
  ...payment("ContentAccess", "01", DAY1, ETH, TRACK, SALE, COLLABORATOR),
  // day 2: a redeemed voucher on TRACK (same split), then a close: the final voucher and the viewer's refund
  ...payment("PaymentChannels", "02", DAY2, ETH, TRACK, MINUTES, COLLABORATOR),
  ...payment("PaymentChannels", "03", DAY2, ETH, TRACK, FINAL, COLLABORATOR),
  credit("PaymentChannels", "03", DAY2, VIEWER, ETH, TRACK, ROLE.refund, DEPOSIT_LEFT),
  // day 2: a stablecoin sale of SINGLE (no collaborators)
  ...payment("ContentAccess", "04", DAY2, USD, SINGLE, USD_SALE),
  // day 2: the creator closed their own channel on another creator's track: their deposit's rest comes back
  ...payment("PaymentChannels", "05", DAY2, ETH, THEIRS, parseUnits("0.0001", 18), undefined, OTHER_CREATOR),
  credit("PaymentChannels", "05", DAY2, CREATOR, ETH, THEIRS, ROLE.refund, OWN_REFUND),
  // someone else's sale the creator has no part in
  ...payment("ContentAccess", "06", DAY1, ETH, THEIRS, SALE, undefined, OTHER_CREATOR),
];

const titles = new Map([
  [TRACK, "Nova, \"live\""],
  [SINGLE, "=Single"],
]);

const breakdown = earningsBreakdown({ creator: CREATOR, credits, titles, withdrawn: new Map([[ETH, WITHDRAWN]]), platformFeeBps: Number(FEE_BPS) });

const big = (l: EarningsLine) => ({ gross: BigInt(l.gross), fee: BigInt(l.platformFee), collaborators: BigInt(l.collaborators), net: BigInt(l.net) });
const sumLines = (lines: EarningsLine[], token: string) =>
  lines.filter((l) => l.token === token).reduce((s, l) => ({ gross: s.gross + big(l).gross, fee: s.fee + big(l).fee, collaborators: s.collaborators + big(l).collaborators, net: s.net + big(l).net, payments: s.payments + l.payments }), { gross: 0n, fee: 0n, collaborators: 0n, net: 0n, payments: 0 });
const creditedTo = (payee: string, token: string) => credits.filter((c) => c.payee === payee.toLowerCase() && c.token === token).reduce((s, c) => s + BigInt(c.amount), 0n);

describe("studio earnings breakdown (web/lib/server/earnings.ts)", () => {
  it("splits a sale into the 3% platform fee, the collaborator's share and the creator's net", () => {
    const [sale] = paymentsOf(CREATOR, credits.filter((c) => c.tx.endsWith("01")));
    const s = split(SALE, COLLAB_BPS);
    expect(sale).to.deep.include({ kind: "sale", day: "2026-12-01", contentId: TRACK, token: ETH, gross: SALE, platformFee: s.fee, collaborators: s.collaborator, net: s.creator });
    expect(s.fee).to.equal(parseUnits("0.00006", 18)); // 3% of 0.002
  });

  it("every line adds up: gross = platform fee + collaborators + net", () => {
    const lines = [...breakdown.byDay, ...breakdown.byRelease, ...breakdown.totals];
    expect(lines.length).to.be.greaterThan(5);
    for (const l of lines) {
      const b = big(l);
      expect(b.fee + b.collaborators + b.net, JSON.stringify(l)).to.equal(b.gross);
    }
  });

  it("per day: one line per UTC day and token; the viewer's refund is not the creator's gross", () => {
    expect(breakdown.byDay.map((l) => [l.day, l.token, l.payments])).to.deep.equal([
      ["2026-12-01", ETH, 1],
      ["2026-12-02", ETH, 3], // the redemption, the close's final voucher, the creator's own refund
      ["2026-12-02", USD, 1],
    ]);
    const day2 = breakdown.byDay[1]!;
    const m = split(MINUTES, COLLAB_BPS);
    const f = split(FINAL, COLLAB_BPS);
    expect(big(day2)).to.deep.equal({
      gross: MINUTES + FINAL + OWN_REFUND, // DEPOSIT_LEFT went back to the viewer: not in anyone's gross here
      fee: m.fee + f.fee,
      collaborators: m.collaborator + f.collaborator,
      net: m.creator + f.creator + OWN_REFUND,
    });
  });

  it("per release: the track's sale and streams on one line, the single in its currency, refunds apart", () => {
    const track = breakdown.byRelease.find((l) => l.contentId === TRACK)!;
    expect(track).to.include({ title: "Nova, \"live\"", token: ETH, payments: 3, gross: (SALE + MINUTES + FINAL).toString() });
    const single = breakdown.byRelease.find((l) => l.contentId === SINGLE)!;
    const s = split(USD_SALE, 0n);
    expect(single).to.include({ title: "=Single", token: USD, payments: 1, gross: USD_SALE.toString(), platformFee: s.fee.toString(), collaborators: "0", net: s.creator.toString() });
    const refunds = breakdown.byRelease.find((l) => l.contentId === "")!;
    expect(refunds).to.include({ token: ETH, net: OWN_REFUND.toString(), platformFee: "0", collaborators: "0" });
    // another creator's sales the creator has no part in leave no line (the own refund is under refunds)
    expect(breakdown.byRelease.map((l) => l.contentId)).to.not.include(THEIRS);
  });

  it("totals per token equal the per-day and per-release sums, and end in credited - withdrawn", () => {
    expect(breakdown.totals.map((t) => t.token)).to.deep.equal([ETH, USD].sort());
    for (const t of breakdown.totals) {
      for (const lines of [breakdown.byDay, breakdown.byRelease]) {
        const s = sumLines(lines, t.token);
        expect({ gross: s.gross, fee: s.fee, collaborators: s.collaborators, net: s.net, payments: s.payments }).to.deep.equal({ ...big(t), payments: t.payments });
      }
      // net is everything the ledgers credited to the creator in this token (sales, streams, own refunds)
      expect(BigInt(t.net)).to.equal(creditedTo(CREATOR, t.token));
      const withdrawn = t.token === ETH ? WITHDRAWN : 0n;
      expect(t.withdrawn).to.equal(withdrawn.toString());
      expect(BigInt(t.withdrawable)).to.equal(creditedTo(CREATOR, t.token) - withdrawn);
    }
  });

  it("explains the fee in one sentence with its percentage", () => {
    expect(percentOf(300)).to.equal("3%");
    expect(percentOf(250)).to.equal("2.5%");
    expect(breakdown.explanation).to.equal(explain(300)).and.to.equal("3% platform fee comes off each payment, collaborators' shares come out of the rest, and you keep the remainder (net).");
    expect(explain(null)).to.match(/^The platform fee/);
  });

  it("has no lines and zero totals for a creator without credits", () => {
    const none = earningsBreakdown({ creator: VIEWER.replace("15", "16"), credits, titles, withdrawn: new Map(), platformFeeBps: 300 });
    expect(none.byDay).to.deep.equal([]);
    expect(none.byRelease).to.deep.equal([]);
    expect(none.totals).to.deep.equal([]);
  });

  describe("CSV", () => {
    const decimals = (t: string) => (t === USD ? 6 : 18);
    const symbol = (t: string) => (t === USD ? "USDC" : "ETH");

    it("per day: a header, one row per day and token, exact amounts that sum to the totals", () => {
      const csv = earningsCsv(breakdown, "day", decimals, symbol);
      expect(csv.endsWith("\r\n")).to.equal(true);
      const rows = csv.trimEnd().split("\r\n").map((r) => r.split(","));
      expect(rows[0]).to.deep.equal(["day", "currency", "token", "payments", "gross", "platform_fee", "collaborators", "net"]);
      expect(rows.slice(1).map((r) => r.slice(0, 4))).to.deep.equal([
        ["2026-12-01", "ETH", ETH, "1"],
        ["2026-12-02", "ETH", ETH, "3"],
        ["2026-12-02", "USDC", USD, "1"],
      ]);
      expect(rows[1]!.slice(4)).to.deep.equal(["0.002", "0.00006", "0.000388", "0.001552"]);
      for (const t of breakdown.totals) {
        const mine = rows.slice(1).filter((r) => r[2] === t.token);
        const col = (i: number) => mine.reduce((s, r) => s + parseUnits(r[i]!, decimals(t.token)), 0n);
        expect([col(4), col(5), col(6), col(7)]).to.deep.equal([BigInt(t.gross), BigInt(t.platformFee), BigInt(t.collaborators), BigInt(t.net)]);
        expect(formatUnits(col(7) - BigInt(t.withdrawn), decimals(t.token))).to.equal(formatUnits(BigInt(t.withdrawable), decimals(t.token)));
      }
    });

    it("per release: titles with commas and quotes are quoted, formula-like titles neutralised", () => {
      const csv = earningsCsv(breakdown, "release", decimals, symbol);
      const lines = csv.split("\r\n");
      expect(lines[0]).to.equal("release_id,title,currency,token,payments,gross,platform_fee,collaborators,net");
      expect(lines).to.include(`${TRACK},"Nova, ""live""",ETH,${ETH},3,0.0023,0.000069,0.0004462,0.0017848`);
      expect(lines).to.include(`${SINGLE},'=Single,USDC,${USD},1,4.99,0.1497,0,4.8403`);
      expect(csvField("a\nb")).to.equal('"a\nb"');
      expect(csvField("+1")).to.equal("'+1");
      expect(csvField(7)).to.equal("7");
    });

    it("names the download by creator, table and date", () => {
      expect(earningsCsvFilename(CREATOR, "release", new Date(Date.UTC(2026, 11, 3, 17)))).to.equal("streamvault-earnings-0x70997970-per-release-2026-12-03.csv");
    });
  });
});

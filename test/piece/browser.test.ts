/**
 * The portable path in a real browser: lib/piece/browser.ts bundled for the browser by esbuild (which
 * fails on any Node import) and run in Debian's Chromium, against Piece.calculate in Node on the same bytes.
 */
import { expect } from "chai";
import { build } from "esbuild";
import * as Piece from "@filoz/synapse-core/piece";
import { playwright } from "../web/server.ts";
import type { Browser, Page } from "../web/pw.ts";

/** Deterministic bytes from a seed (xorshift32): the same function runs in Node and, as source, in the page. */
function xorshiftBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("PieceCID in the browser (lib/piece/browser.ts in Chromium)", function () {
  this.timeout(5 * 60_000);
  let browser: Browser;
  let page: Page;

  before(async () => {
    const bundle = await build({ entryPoints: ["lib/piece/browser.ts"], bundle: true, format: "iife", globalName: "PieceCid", platform: "browser", write: false, logLevel: "silent" });
    browser = await playwright().chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage();
    await page.setContent("<!doctype html><title>piece</title>");
    await page.addScriptTag({ content: `${bundle.outputFiles[0]!.text};\nwindow.xorshiftBytes = ${xorshiftBytes.toString()};` });
  });
  after(async () => browser?.close());

  for (const [size, seed] of [[127, 1], [1_000, 2], [1_040_385, 3], [20_000_000, 4]] as const) {
    it(`${size.toLocaleString("en-US")} bytes: bytes and a Blob stream give the reference CID`, async () => {
      const expected = Piece.calculate(xorshiftBytes(size, seed)).toString();
      const inPage = await page.evaluate(async ([n, s]) => {
        const w = window as unknown as { xorshiftBytes(n: number, s: number): Uint8Array; PieceCid: typeof import("@streamvault/lib/piece/browser.ts") };
        const bytes = w.xorshiftBytes(n, s);
        return { bytes: w.PieceCid.pieceCidOf(bytes), stream: await w.PieceCid.pieceCidOfStream(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()) };
      }, [size, seed] as const);
      expect(inPage).to.deep.equal({ bytes: expected, stream: expected });
    });
  }

  it("refuses a payload under 127 bytes with what to do", async () => {
    const message = await page.evaluate(() => {
      const w = window as unknown as { PieceCid: typeof import("@streamvault/lib/piece/browser.ts") };
      try {
        w.PieceCid.pieceCidOf(new Uint8Array(100));
        return "accepted";
      } catch (err) {
        return String(err);
      }
    });
    expect(message).to.match(/PieceInputError.*at least 127 bytes/);
  });
});

/**
 * Chromium with the injected test wallet, for browser tests that need no more than this (the album
 * tests): one launch, and pages opened on a path with the wallet connected, collecting the page's
 * console errors and the paths answered 404.
 */
import type { Hex } from "viem";
import { playwright } from "./server.ts";
import { connectTestWallet, installWallet } from "./wallet.ts";
import type { Browser, Page } from "./pw.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return playwright().chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
  });
}

export interface WalletPage {
  page: Page;
  /** console errors and uncaught exceptions */
  errors: string[];
  /** paths of responses with status 404 */
  notFound: string[];
}

/** A new context of `width` px with the wallet of `key`, at `webUrl + path`, connected. */
export async function openWithWallet(browser: Browser, opts: { key: Hex; rpcUrl: string; webUrl: string; path: string; width: number }): Promise<WalletPage> {
  const context = await browser.newContext({ viewport: { width: opts.width, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  const notFound: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("response", (r) => r.status() === 404 && notFound.push(new URL(r.url()).pathname));
  await installWallet(page, opts.key, opts.rpcUrl);
  await page.goto(`${opts.webUrl}${opts.path}`, { waitUntil: "networkidle" });
  await connectTestWallet(page);
  return { page, errors, notFound };
}

/**
 * The browser side of the web tests: one fixture per suite (a test stack, the production web app,
 * Chromium; started in before(), stopped in after()), and pages opened on a path with the injected
 * test wallet connected, collecting the page's console errors and the paths answered 404.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { REPO_ROOT } from "@streamvault/lib/deployments/artifacts.ts";
import { ensureBuild, playwright, startWeb, type WebServer } from "./server.ts";
import { startStack, type Stack } from "./stack.ts";
import { connectTestWallet, installWallet } from "./wallet.ts";
import type { Browser, Page } from "./pw.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Where browser tests write their screenshots (looked at by a person, and on failure). */
export const SHOTS = join(REPO_ROOT, "test-results", "web");

/** Chromium for tests; `extraArgs` e.g. the fake camera flags of the go-live test. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return playwright().chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio", ...extraArgs],
  });
}

export interface WebSuite {
  stack: Stack;
  web: WebServer;
  browser: Browser;
  /** Stops the browser, the web app and the stack (each once; safe after a partial start). */
  stop(): Promise<void>;
}

/**
 * What a browser suite's before() starts: the stack (with `stack` options) and the web build at
 * once, then `beforeWeb` (chain setup the app should see from its start), the web app with the
 * stack's environment plus `env`, and Chromium. A failure part-way stops what was started.
 */
export async function startWebSuite(options: {
  stack?: Parameters<typeof startStack>[0];
  beforeWeb?: (stack: Stack) => Promise<void>;
  env?: (stack: Stack) => Record<string, string>;
  chromiumArgs?: string[];
} = {}): Promise<WebSuite> {
  mkdirSync(SHOTS, { recursive: true });
  let stack: Stack | undefined;
  let web: WebServer | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => {});
    await web?.stop();
    await stack?.stop();
    browser = web = stack = undefined;
  };
  try {
    const [stackStart, build] = await Promise.allSettled([startStack(options.stack), ensureBuild()]);
    if (stackStart.status === "rejected") throw stackStart.reason;
    const started = (stack = stackStart.value);
    if (build.status === "rejected") throw build.reason;
    await options.beforeWeb?.(started);
    web = await startWeb({ ...started.env, ...options.env?.(started) });
    browser = await launchChromium(options.chromiumArgs);
    return { stack: started, web, browser, stop };
  } catch (error) {
    await stop();
    throw error;
  }
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

/**
 * A browser wallet without an extension: an EIP-1193 provider injected into every page and
 * announced with EIP-6963, whose requests are answered here in the test process: accounts and
 * signatures from a dev key through viem, everything else forwarded to anvil.
 */
import type { Page } from "./pw.ts";
import { createWalletClient, http, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";

export interface TestWallet {
  address: Hex;
  /** Chain id the wallet reports (set another to test wrong-network handling). */
  chainId: number;
  /** Reject the next request that needs the user's approval (code 4001). */
  rejectNext: boolean;
  /** Reject (code 4001) the first approval request this matches, then clear it: one chosen transaction among others sent on their own. */
  rejectIf?: (method: string, params: unknown[]) => boolean;
  /** Methods the page asked for, in order. */
  calls: string[];
  setChain(page: Page, chainId: number): Promise<void>;
}

const INIT = `(() => {
  const listeners = {};
  const provider = {
    isStreamVaultTestWallet: true,
    request: async ({ method, params }) => {
      const out = JSON.parse(await window.__svWallet(JSON.stringify({ method, params: params ?? [] })));
      if (out.error) { const e = new Error(out.error.message); e.code = out.error.code; throw e; }
      return out.result;
    },
    on: (event, fn) => { (listeners[event] ||= []).push(fn); return provider; },
    removeListener: (event, fn) => { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); return provider; },
  };
  window.__svEmit = (event, value) => (listeners[event] || []).forEach((fn) => fn(value));
  const info = {
    uuid: "6c1c5d0e-1a52-4d0b-9a43-5e0b4f7f0c11",
    name: "StreamVault Test Wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='6' fill='%237c5cff'/%3E%3C/svg%3E",
    rdns: "dev.streamvault.testwallet",
  };
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;

export async function installWallet(page: Page, privateKey: Hex, rpcUrl: string, chainId = 31337): Promise<TestWallet> {
  const account = privateKeyToAccount(privateKey);
  const client = createWalletClient({ account, chain: foundry, transport: http(rpcUrl) });
  const wallet: TestWallet = {
    address: account.address,
    chainId,
    rejectNext: false,
    calls: [],
    async setChain(p, id) {
      wallet.chainId = id;
      await p.evaluate((hex) => (window as unknown as { __svEmit: (e: string, v: unknown) => void }).__svEmit("chainChanged", hex), toHex(id));
    },
  };
  let authorized = false;
  const needsApproval = new Set(["eth_requestAccounts", "personal_sign", "eth_signTypedData_v4", "eth_sendTransaction", "wallet_switchEthereumChain"]);

  async function answer(method: string, params: unknown[]): Promise<unknown> {
    wallet.calls.push(method);
    if (needsApproval.has(method) && (wallet.rejectNext || wallet.rejectIf?.(method, params))) {
      wallet.rejectNext = false;
      wallet.rejectIf = undefined;
      throw Object.assign(new Error("User rejected the request."), { code: 4001 });
    }
    switch (method) {
      case "eth_requestAccounts":
        authorized = true;
        return [account.address];
      case "eth_accounts":
        // Like a real wallet: no accounts for a site until the user connected it.
        return authorized ? [account.address] : [];
      case "eth_chainId":
        return toHex(wallet.chainId);
      case "net_version":
        return String(wallet.chainId);
      case "wallet_switchEthereumChain": {
        const id = Number((params[0] as { chainId: string }).chainId);
        if (id !== 31337) throw Object.assign(new Error(`Unrecognized chain ${id}`), { code: 4902 });
        wallet.chainId = id;
        await currentPage?.evaluate((hex) => (window as unknown as { __svEmit: (e: string, v: unknown) => void }).__svEmit("chainChanged", hex), toHex(id));
        return null;
      }
      case "wallet_requestPermissions":
        authorized = true;
        return [{ parentCapability: "eth_accounts" }];
      case "wallet_getPermissions":
        return authorized ? [{ parentCapability: "eth_accounts" }] : [];
      case "personal_sign":
        return account.signMessage({ message: { raw: params[0] as Hex } });
      case "eth_signTypedData_v4": {
        const data = JSON.parse(params[1] as string);
        delete data.types.EIP712Domain;
        return account.signTypedData(data);
      }
      case "eth_sendTransaction": {
        if (wallet.chainId !== 31337) throw Object.assign(new Error("wallet is on another chain"), { code: 4901 });
        const tx = params[0] as { to?: Hex; data?: Hex; value?: Hex; gas?: Hex };
        return client.sendTransaction({
          to: tx.to,
          data: tx.data,
          value: tx.value ? BigInt(tx.value) : 0n,
          gas: tx.gas ? BigInt(tx.gas) : undefined,
        } as never);
      }
      default: {
        const res = await fetch(rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        });
        const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
        if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
        return body.result;
      }
    }
  }

  let currentPage: Page | undefined = page;
  await page.exposeFunction("__svWallet", async (json: string) => {
    const { method, params } = JSON.parse(json) as { method: string; params: unknown[] };
    try {
      return JSON.stringify({ result: await answer(method, params) });
    } catch (error) {
      const e = error as { message?: string; code?: number; shortMessage?: string };
      return JSON.stringify({ error: { code: e.code ?? -32603, message: e.shortMessage ?? e.message ?? String(error) } });
    }
  });
  await page.addInitScript(INIT);
  return wallet;
}

/** Connects the page's app to the injected test wallet (the header's Connect, then the wallet's entry). */
export async function connectTestWallet(page: Page): Promise<void> {
  await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).click();
  await page.getByRole("button", { name: /StreamVault Test Wallet/ }).click();
  await page.getByTestId("wallet").getByRole("button", { name: /connect/i }).waitFor({ state: "detached", timeout: 15_000 });
}

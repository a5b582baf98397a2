/** `keys escrow`, `keys status`, `keys rotate-master-key`: custody of the content keys. */
import { readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ChainContext } from "@streamvault/lib/catalog/chain/client.ts";
import { registeredContentIds } from "@streamvault/lib/catalog/chain/content.ts";
import { deriveEscrowKeyPair, type EscrowKeyPair, type KeyStore } from "@streamvault/lib/keys";
import { CliError, EXIT, homeDir, openChain, openKeys, toJson } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

interface JsonOpt extends GlobalOptions {
  json?: boolean;
}

/** The escrow key pair of the CLI wallet (CREATOR_PRIVATE_KEY) on this chain's BackupRegistry; nothing of it is printed. */
export function walletEscrowKeyPair(chain: ChainContext): Promise<EscrowKeyPair> {
  return deriveEscrowKeyPair((typedData) => chain.walletClient.signTypedData({ account: chain.account, ...typedData }), {
    chainId: chain.chainId,
    verifyingContract: chain.backupRegistry.address,
    creator: chain.account.address,
  });
}

async function withKeys<T>(home: string, fn: (keys: KeyStore) => Promise<T>): Promise<T> {
  const keys = await openKeys(home);
  try {
    return await fn(keys);
  } finally {
    await keys.close();
  }
}

/** Escrow status of `creator`: how many of their stored content keys are sealed to their escrow key. */
async function escrowStatus(keys: KeyStore, creator: string, contentIds: readonly string[]) {
  const escrow = await keys.escrowOf(creator);
  let stored = 0;
  for (const id of contentIds) if (await keys.hasKey(id)) stored++;
  return { creator, escrow: escrow !== undefined, escrowed: escrow?.keys.length ?? 0, storedKeys: stored, registeredItems: contentIds.length };
}

export async function keysEscrowCommand(opts: JsonOpt): Promise<number> {
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const pair = await walletEscrowKeyPair(chain);
  const creator = chain.account.address;
  const ids = await registeredContentIds(chain, creator);
  const status = await withKeys(home, async (keys) => {
    await keys.setEscrowKey(creator, pair.publicKey, ids);
    return escrowStatus(keys, creator, ids);
  });
  if (opts.json) console.log(toJson(status));
  else console.log(`key escrow set up for ${creator}: ${status.escrowed} of ${status.storedKeys} stored content keys sealed to your wallet's escrow key; new uploads are sealed to it too. Run \`streamvault backup\` to put them in a snapshot.`);
  return EXIT.OK;
}

export async function keysStatusCommand(opts: JsonOpt): Promise<number> {
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const creator = chain.account.address;
  const ids = await registeredContentIds(chain, creator);
  const status = await withKeys(home, (keys) => escrowStatus(keys, creator, ids));
  if (opts.json) console.log(toJson(status));
  else console.log(status.escrow ? `key escrow: ${status.escrowed} of ${status.storedKeys} stored content keys escrowed (${status.registeredItems} items registered)` : `key escrow: not set up (${status.storedKeys} stored content keys); run \`streamvault keys escrow\``);
  return EXIT.OK;
}

export interface RotateOptions extends JsonOpt {
  newKeyFile?: string;
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * Re-seal every stored key under a new master key: from --new-key-file (64 hex chars) or
 * STREAMVAULT_NEW_MASTER_KEY, never from the command line (it would land in shell history).
 */
export async function rotateMasterKeyCommand(opts: RotateOptions): Promise<number> {
  let text: string | undefined;
  if (opts.newKeyFile !== undefined) {
    try {
      text = readFileSync(opts.newKeyFile, "utf8").trim();
    } catch (err) {
      throw new CliError(`--new-key-file ${opts.newKeyFile}: ${(err as Error).message}`, "bad_input");
    }
  } else text = process.env.STREAMVAULT_NEW_MASTER_KEY?.trim();
  if (!text) throw new CliError("give the new master key with --new-key-file <file> or STREAMVAULT_NEW_MASTER_KEY (64 hex characters; e.g. `openssl rand -hex 32 > new.key`)", "bad_input");
  if (!HEX_KEY.test(text)) throw new CliError("the new master key must be 64 hex characters (32 bytes)", "bad_input");
  const newKey = new Uint8Array(Buffer.from(text, "hex"));
  const home = homeDir(opts);
  // With no STREAMVAULT_MASTER_KEY the dev key file is the master key: it is replaced too. The new
  // key is on disk (master.key.next) before the database changes, so a crash between the two loses nothing.
  const devFile = path.join(home, "keys", "master.key");
  const fromEnv = !!process.env.STREAMVAULT_MASTER_KEY;
  if (!fromEnv) await mkdir(path.dirname(devFile), { recursive: true, mode: 0o700 });
  if (!fromEnv) await writeFile(`${devFile}.next`, text.toLowerCase() + "\n", { mode: 0o600 });
  let count: number;
  try {
    count = await withKeys(home, (keys) => keys.rotateMasterKey(newKey));
  } catch (err) {
    if (!fromEnv) await rm(`${devFile}.next`, { force: true });
    throw new CliError(`master key not rotated, nothing changed: ${(err as Error).message}`, "integrity");
  }
  if (!fromEnv) await rename(`${devFile}.next`, devFile);
  const next = fromEnv ? "set STREAMVAULT_MASTER_KEY to the new key before starting the server or CLI again" : `${devFile} now holds the new key`;
  if (opts.json) console.log(toJson({ resealed: count, masterKey: fromEnv ? "env" : devFile }));
  else console.log(`re-sealed ${count} content keys under the new master key; ${next}`);
  return EXIT.OK;
}


/** `pass-metadata`: store the pass image + ERC-721 JSON and set CreatorPass.setMetadataURI. */
import { existsSync } from "node:fs";
import { publishPassMetadata } from "@streamvault/lib/catalog/pass/metadata.ts";
import { CliError, EXIT, homeDir, openChain, openStore, toJson } from "../context.ts";
import type { GlobalOptions } from "../context.ts";

export interface PassOptions extends GlobalOptions {
  image: string;
  name: string;
  description?: string;
  gatewayUrl?: string;
  json?: boolean;
}

export async function passMetadataCommand(opts: PassOptions): Promise<number> {
  if (!existsSync(opts.image)) throw new CliError(`--image ${opts.image} does not exist`, "bad_input");
  const gatewayUrl = opts.gatewayUrl ?? process.env.STORAGE_PUBLIC_URL;
  if (!gatewayUrl || !/^https?:\/\//.test(gatewayUrl)) {
    throw new CliError("pass metadata needs a public gateway URL: pass --gateway-url https://... (or set STORAGE_PUBLIC_URL); wallets fetch <url>/piece/<cid>", "bad_input");
  }
  const home = homeDir(opts);
  const chain = await openChain(opts);
  const store = openStore(home);
  // PassNotLaunchedError (not_found) and a bad image type (bad_input) exit with their codes (lib/errors.ts).
  const r = await publishPassMetadata(chain, store, { image: opts.image, name: opts.name, description: opts.description ?? "", gatewayUrl });
  console.log(opts.json ? toJson(r) : `pass ${r.pass}: metadata ${r.metadataUri} (image ${r.imageUrl}), tx ${r.txHash}`);
  return EXIT.OK;
}

/** One key store per server process (PGlite allows one opener per directory): shared by uploads and key release. */
import { isAbsolute, join } from "node:path";
import type { KeyStore } from "@streamvault/lib/keys";
import { REPO_ROOT } from "./config.ts";

let store: Promise<KeyStore> | undefined;

export function keyStore(): Promise<KeyStore> {
  store ??= import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/keys").then((keys) => {
    const dir = process.env.KEYSTORE_DIR || ".streamvault/keys";
    return keys.openKeyStore({ dataDir: isAbsolute(dir) ? dir : join(REPO_ROOT, dir) });
  });
  store.catch(() => (store = undefined));
  return store;
}

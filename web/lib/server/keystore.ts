/** One key store per server process (PGlite allows one opener per directory): shared by uploads and key release. */
import { isAbsolute, join } from "node:path";
import type { KeyStore } from "@streamvault/lib/keys";
import { REPO_ROOT } from "./config.ts";

// On globalThis: instrumentation.ts (the upload worker) is bundled apart from the route handlers,
// and a second opener of the same PGlite directory in one process would corrupt it.
const shared = globalThis as typeof globalThis & { __streamvaultKeyStore?: Promise<KeyStore> };

export function keyStore(): Promise<KeyStore> {
  shared.__streamvaultKeyStore ??= import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "@streamvault/lib/keys").then((keys) => {
    const dir = process.env.KEYSTORE_DIR || ".streamvault/keys";
    return keys.openKeyStore({ dataDir: isAbsolute(dir) ? dir : join(REPO_ROOT, dir) });
  });
  shared.__streamvaultKeyStore.catch(() => (shared.__streamvaultKeyStore = undefined));
  return shared.__streamvaultKeyStore;
}

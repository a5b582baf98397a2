/**
 * Loads the shared library (`../lib/*.ts`) at run time with Node's own loader instead of the
 * bundler: Node >= 22.18 strips TypeScript types natively, so the storage, media, key and
 * key-release code runs in the web server exactly as it does in the CLI and the tests, with its
 * native dependencies (sharp, PGlite, ffmpeg) resolved from the repository's node_modules.
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { REPO_ROOT } from "./config.ts";

const loaded = new Map<string, Promise<unknown>>();

/** `await repoImport<typeof import("../../../lib/storage/index.ts")>("lib/storage/index.ts")` */
export function repoImport<T>(relativePath: string): Promise<T> {
  let p = loaded.get(relativePath);
  if (!p) {
    const url = pathToFileURL(join(REPO_ROOT, relativePath)).href;
    p = import(/* webpackIgnore: true */ /* turbopackIgnore: true */ url);
    p.catch(() => loaded.delete(relativePath));
    loaded.set(relativePath, p);
  }
  return p as Promise<T>;
}

export function repoFileExists(relativePath: string): boolean {
  return existsSync(join(REPO_ROOT, relativePath));
}

/**
 * Manifest library: schema, deterministic serialisation, parsing, playlists.
 */
import { canonicalJson } from "./canonical.ts";
import { ManifestSchema } from "./schema.ts";
import type { Manifest } from "./schema.ts";
import { StreamVaultError } from "../errors.ts";

export * from "./schema.ts";
export * from "./playlist.ts";
export * from "./minutes.ts";
export { canonicalJson } from "./canonical.ts";

/** Thrown when bytes are not a valid manifest (any supported version). */
export class ManifestValidationError extends StreamVaultError {
  readonly issues: string[];
  constructor(issues: string[]) {
    super("bad_input", `invalid StreamVault manifest: ${issues.slice(0, 5).join("; ")}`);
    this.name = "ManifestValidationError";
    this.issues = issues;
  }
}

/** Validate a manifest object; returns the parsed manifest or throws ManifestValidationError. */
export function validateManifest(value: unknown): Manifest {
  const result = ManifestSchema.safeParse(value);
  if (!result.success) {
    throw new ManifestValidationError(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  return result.data;
}

/** Validate and serialise to canonical UTF-8 JSON bytes (same manifest -> same bytes -> same PieceCID). */
export function serializeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(canonicalJson(validateManifest(manifest)));
}

/** Parse and validate manifest bytes (or text). */
export function parseManifest(input: Uint8Array | string): Manifest {
  const text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ManifestValidationError([`not JSON: ${(err as Error).message}`]);
  }
  return validateManifest(value);
}

/** Errors of the PieceCID module; each says what the caller can do about it. */
import { MAX_PIECE_PAYLOAD, MIN_PIECE_PAYLOAD } from "./tree.ts";
import { StreamVaultError } from "../errors.ts";

/** The payload cannot be one piece: too small (pad it or bundle it) or too large (split it). */
export class PieceInputError extends StreamVaultError {
  readonly size: number;
  constructor(size: number) {
    super("bad_input", 
      size < MIN_PIECE_PAYLOAD
        ? `a piece needs at least ${MIN_PIECE_PAYLOAD} bytes, got ${size}: bundle small files together, or pass { pad: true } to zero-pad it to ${MIN_PIECE_PAYLOAD} bytes (then store the padded bytes)`
        : `a piece holds at most ${MAX_PIECE_PAYLOAD.toLocaleString("en-US")} bytes, got ${size.toLocaleString("en-US")}: split the input into several pieces`,
    );
    this.name = "PieceInputError";
    this.size = size;
  }
}

/** STREAMVAULT_PIECE_IMPL=native was asked for but the addon is not built or does not load. */
export class NativePieceUnavailableError extends StreamVaultError {
  constructor(reason: string) {
    super("unavailable", `the native PieceCID addon is unavailable (${reason}): run \`npm run build:native\` (needs g++, make, python3), or unset STREAMVAULT_PIECE_IMPL to use the portable path`);
    this.name = "NativePieceUnavailableError";
  }
}

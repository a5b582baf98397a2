/**
 * The one error base of StreamVault. Every error the library raises on purpose carries a `code`
 * saying what kind of failure it is, and this file's table is the only place that turns a code
 * into an HTTP status (key release, web routes, piece gateway) or a CLI exit code (cli/). Callers
 * branch on the code, never on message text: messages are for people and may change.
 *
 * Browser-safe (no Node imports): the web app's client code throws and reads these too.
 */

/** Code -> HTTP status and CLI exit code (exit codes as documented in cli/README.md). */
export const ERROR_CODES = {
  /** The request, command line or input file is wrong: fix it (and the message says how). */
  bad_input: { status: 400, exit: 2 },
  /** Not signed in, or the sign-in is no longer valid: sign in again. */
  unauthenticated: { status: 401, exit: 2 },
  /** More must be paid first (a voucher, a top-up). */
  payment_required: { status: 402, exit: 4 },
  /** Signed in, but this wallet has no access to this. */
  forbidden: { status: 403, exit: 4 },
  /** Content, piece, backup, key or channel does not exist here. */
  not_found: { status: 404, exit: 4 },
  /** The data conflicts with what is there (another copy of a key, a concurrent request). */
  conflict: { status: 409, exit: 6 },
  /** Another run holds the resource (an upload in the same data directory): wait or stop it. */
  busy: { status: 409, exit: 6 },
  /** The body or file is over a limit. */
  too_large: { status: 413, exit: 2 },
  /** The byte range lies outside the piece. */
  range_not_satisfiable: { status: 416, exit: 2 },
  /** Too many requests: try again later. */
  rate_limited: { status: 429, exit: 3 },
  /** Bytes do not match their hash, their authentication tag or the chain's anchor (tampered or corrupt data). */
  integrity: { status: 409, exit: 5 },
  /** A chain node, storage backend or other service did not answer, or is not set up here: retry or fix the configuration. */
  unavailable: { status: 503, exit: 3 },
  /** A bug or an unexpected state: report it. */
  internal: { status: 500, exit: 1 },
} as const satisfies Record<string, { status: number; exit: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

// Symbol.for: the same key in every copy of this module (the web server loads the library both
// bundled and through Node's loader, so `instanceof` alone cannot tell a StreamVaultError).
const BRAND = Symbol.for("streamvault.error");

/** The base of StreamVault's errors: a message saying what to do, and a `code` from {@link ERROR_CODES}. */
export class StreamVaultError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** HTTP status for this error (from the table). Named so because some errors carry an upstream `status` of their own. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].status;
  }

  /** CLI exit code for this error (from the table). */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep plain prototype checks; the base also recognises other module copies.
    if (this !== StreamVaultError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** The code of a StreamVault error (from any copy of this module), else undefined. */
export function errorCodeOf(error: unknown): ErrorCode | undefined {
  if (!(error instanceof StreamVaultError)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : undefined;
}

/** Whether `error` is a StreamVault error with code `code`. */
export function hasErrorCode(error: unknown, code: ErrorCode): boolean {
  return errorCodeOf(error) === code;
}

/**
 * The code an HTTP layer that decides statuses itself (key release's refusals) files its answer
 * under: the first code in the table with that status; "internal" for a status the table lacks.
 */
export function errorCodeForStatus(status: number): ErrorCode {
  for (const [code, entry] of Object.entries(ERROR_CODES)) if (entry.status === status) return code as ErrorCode;
  return "internal";
}

/** HTTP status for any thrown value: its code's status, 500 for anything that is not a StreamVault error. */
export function httpStatusOf(error: unknown): number {
  return ERROR_CODES[errorCodeOf(error) ?? "internal"].status;
}

/** CLI exit code for any thrown value: its code's exit code, 1 for anything that is not a StreamVault error. */
export function exitCodeOf(error: unknown): number {
  return ERROR_CODES[errorCodeOf(error) ?? "internal"].exit;
}

/**
 * The JSON answer for a thrown value: `{error: code, message}` with the code's status. Errors that
 * are not StreamVault errors become a 500 without their message (it may hold internals).
 */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  const code = errorCodeOf(error);
  const body = code
    ? { error: code, message: (error as Error).message }
    : { error: "internal" as const, message: "the server failed to handle this request: try again" };
  return Response.json(body, { status: ERROR_CODES[code ?? "internal"].status, headers: { "cache-control": "no-store", ...headers } });
}

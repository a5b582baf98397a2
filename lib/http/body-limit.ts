/**
 * Request bodies read with a byte limit enforced while they stream in: a declared Content-Length
 * over the limit is refused before a byte is read, and a chunked body is cut off at the first chunk
 * that passes it. Nothing is buffered beyond the limit, so a 3 GB body costs the server nothing.
 */
import type { IncomingMessage } from "node:http";

/** The body is (or says it is) larger than the endpoint accepts: answer 413. */
export class BodyTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body over ${formatBytes(limit)}: send at most ${formatBytes(limit)}`);
    this.name = "BodyTooLargeError";
    this.limit = limit;
  }
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KB`;
  return `${n} bytes`;
}

/** Throws BodyTooLargeError when a Content-Length header declares more than `limit` bytes. */
export function checkDeclaredLength(contentLength: string | null | undefined, limit: number): void {
  if (contentLength == null || contentLength === "") return;
  const declared = Number(contentLength);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
}

/** The body of a Fetch Request, at most `limit` bytes (the stream is cancelled past it). */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  checkDeclaredLength(request.headers.get("content-length"), limit);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      // Stop the upload here: cancelling tells the server adapter to stop reading the socket.
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return concat(chunks, length);
}

export async function readBodyText(request: Request, limit: number): Promise<string> {
  return new TextDecoder().decode(await readBodyBytes(request, limit));
}

/** The bad request a caller turns into a 400: the body is not JSON. */
export class BodyNotJsonError extends Error {
  constructor() {
    super("the request body is not JSON: send Content-Type: application/json with a JSON value");
    this.name = "BodyNotJsonError";
  }
}

/** JSON body of at most `limit` bytes; BodyTooLargeError past the limit, BodyNotJsonError when it does not parse. */
export async function readBodyJson(request: Request, limit: number): Promise<unknown> {
  const text = await readBodyText(request, limit);
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyNotJsonError();
  }
}

/** The body of a node:http request, at most `limit` bytes; past it the request stops being read. */
export async function readNodeBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req.headers["content-length"], limit);
  const chunks: Buffer[] = [];
  let length = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        cleanup();
        // No more 'data': the socket's buffers fill and TCP flow control stops the sender.
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Worker thread that owns an embedded PGlite database, so its WebAssembly Postgres does not run
 * on the HTTP server's event loop. Messages: {id, sql, params} -> {id, rows} | {id, error}; {close: true}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { mkdir } from "node:fs/promises";

const port = parentPort!;
const { dir } = workerData as { dir?: string };
const { PGlite } = await import("@electric-sql/pglite");
if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
const db = dir === undefined ? new PGlite() : new PGlite(dir);
await db.waitReady;

port.on("message", (message: { id?: number; sql?: string; params?: unknown[]; close?: boolean }) => {
  if (message.close) {
    db.close().finally(() => port.postMessage({ closed: true }));
    return;
  }
  db.query(message.sql!, message.params).then(
    (result) => port.postMessage({ id: message.id, rows: result.rows }),
    (error: { message?: string; code?: string }) => port.postMessage({ id: message.id, error: { message: String(error?.message ?? error), code: error?.code } }),
  );
});
port.postMessage({ ready: true });

/**
 * One owner per embedded database. PGlite is one Postgres inside one process: two processes
 * opening the same directory each load their own copy, never see each other's writes, and the
 * last to flush overwrites the other (the CLI's `upload` wrote a key the running web server never
 * saw). So the first process to open a directory becomes its owner: it holds a lock file beside
 * the directory and serves queries on a Unix socket; every other opener (the CLI, a second module
 * copy, the voucher keeper) becomes a client of the owner and its queries run on the owner's
 * database at once. When the owner closes (or dies) its clients' next query reconnects, and one of
 * them takes the database over.
 *
 *   <dir>.owner   {pid, socket, token} (0600, written atomically with link(2))
 *   <dir>.sock    the owner's socket (os.tmpdir() when the path would be too long for a socket)
 *
 * Frames are a 4-byte big-endian length and a v8-serialized value (Dates, Uint8Arrays and BigInts
 * survive). A client's first frame is the owner's token, read from the 0600 lock file: only a
 * process of the same user can connect.
 */
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile, chmod } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { deserialize, serialize } from "node:v8";
import { SqlError, type SqlClient } from "./index.ts";

export interface EmbeddedDbOptions {
  /** Opens the database in this process (called only when this process becomes the owner). */
  open: () => Promise<SqlClient>;
  /** What the database holds, for error messages ("key store"). */
  what?: string;
  /** How long to wait for an owner that is starting up (lock written, socket not yet listening), ms (default 15000). */
  ownerWaitMs?: number;
}

/** An embedded database opened as its owner or as a client of the process that owns it. */
export interface EmbeddedDb extends SqlClient {
  /** "owner": this process runs the database; "client": another process (or module copy) does. */
  role(): "owner" | "client";
}

interface OwnerRecord {
  pid: number;
  socket: string;
  token: string;
}

type Request = { id: number; sql: string; params?: unknown[] };
type Reply = { id: number; rows?: unknown[]; error?: { message: string; code?: string } };

/** Opens `dir` through its owner, becoming the owner when there is none. */
export async function openEmbeddedDb(dir: string, options: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const lockPath = `${path.resolve(dir)}.owner`;
  const what = options.what ?? "embedded database";
  const waitMs = options.ownerWaitMs ?? 15_000;
  let current: Connection | undefined;
  let connecting: Promise<Connection> | undefined;
  let closed = false;

  const connect = (): Promise<Connection> => {
    if (current !== undefined && current.usable()) return Promise.resolve(current);
    connecting ??= attach(lockPath, dir, what, options.open, waitMs)
      .then((connection) => {
        current = connection;
        return connection;
      })
      .finally(() => (connecting = undefined));
    return connecting;
  };
  const first = await connect();

  return {
    role: () => (current ?? first).role,
    query: async <T>(sql: string, params?: unknown[]) => {
      if (closed) throw new Error(`the ${what} is closed`);
      const connection = await connect();
      try {
        return (await connection.query(sql, params)) as { rows: T[] };
      } catch (error) {
        // The owner went away before the query was sent: run it on whoever owns the database now.
        if (error instanceof OwnerGoneError && !error.sent) return (await (await connect()).query(sql, params)) as { rows: T[] };
        throw error;
      }
    },
    close: async () => {
      closed = true;
      await (await connecting?.catch(() => undefined))?.close();
      await current?.close();
    },
  };
}

/** The owner closed or died; `sent` says whether the query may have run. */
class OwnerGoneError extends Error {
  readonly sent: boolean;
  constructor(message: string, sent: boolean) {
    super(message);
    this.name = "OwnerGoneError";
    this.sent = sent;
  }
}

interface Connection {
  role: "owner" | "client";
  usable(): boolean;
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  close(): Promise<void>;
}

async function attach(lockPath: string, dir: string, what: string, open: () => Promise<SqlClient>, waitMs: number): Promise<Connection> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const record = await readOwner(lockPath);
    if (record === undefined) {
      const owned = await tryOwn(lockPath, dir, open);
      if (owned !== undefined) return owned;
      continue; // another process took the lock first: connect to it
    }
    if (!alive(record.pid)) {
      // The owner died without releasing the lock (kill -9): its database is on disk, take it over.
      await unlink(lockPath).catch(() => {});
      continue;
    }
    try {
      return await connectClient(record, what);
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `the ${what} in ${dir} is held by process ${record.pid}, which does not answer on ${record.socket} (${(error as Error).message}): ` +
            `stop that process, or delete ${lockPath} if it is not a StreamVault process`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // the owner is starting up
    }
  }
}

async function readOwner(lockPath: string): Promise<OwnerRecord | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const record = JSON.parse(text) as OwnerRecord;
    if (Number.isInteger(record.pid) && typeof record.socket === "string" && typeof record.token === "string") return record;
  } catch {
    // fall through
  }
  throw new Error(`${lockPath} is not an owner record: delete it if no StreamVault process is running`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Unix socket paths are limited to ~107 bytes; a long one goes to the temp directory under a hash of the lock path. */
function socketPathFor(lockPath: string): string {
  const beside = lockPath.replace(/\.owner$/, ".sock");
  if (Buffer.byteLength(beside) <= 100) return beside;
  return path.join(tmpdir(), `streamvault-${createHash("sha256").update(lockPath).digest("hex").slice(0, 16)}.sock`);
}

async function tryOwn(lockPath: string, dir: string, open: () => Promise<SqlClient>): Promise<Connection | undefined> {
  await mkdir(path.dirname(lockPath), { recursive: true, mode: 0o700 });
  const record: OwnerRecord = { pid: process.pid, socket: socketPathFor(lockPath), token: randomBytes(32).toString("hex") };
  const temp = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  try {
    await link(temp, lockPath); // atomic: fails with EEXIST when another process owns it
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
  let db: SqlClient;
  try {
    db = await open();
  } catch (error) {
    await unlink(lockPath).catch(() => {});
    throw error;
  }
  try {
    return await serveOwner(db, record, lockPath);
  } catch (error) {
    await db.close().catch(() => {});
    await unlink(lockPath).catch(() => {});
    throw error;
  }
}

function writeFrame(socket: Socket, value: unknown): void {
  const payload = serialize(value);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  socket.write(Buffer.concat([header, payload]));
}

/** Calls `onFrame` for each complete frame read from the socket. */
function readFrames(socket: Socket, onFrame: (value: unknown) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (buffered.length < 4 + length) break;
      const frame = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      let value: unknown;
      try {
        value = deserialize(frame);
      } catch {
        socket.destroy();
        return;
      }
      onFrame(value);
    }
  });
}

async function serveOwner(db: SqlClient, record: OwnerRecord, lockPath: string): Promise<Connection> {
  const sockets = new Set<Socket>();
  const inFlight = new Set<Promise<unknown>>();
  let open = true;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.unref(); // an idle client connection does not keep the owner process alive
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let authenticated = false;
    readFrames(socket, (frame) => {
      if (!authenticated) {
        authenticated = (frame as { token?: string }).token === record.token;
        if (!authenticated) socket.destroy();
        return;
      }
      const { id, sql, params } = frame as Request;
      const running = db.query(sql, params).then(
        (result) => ({ id, rows: result.rows }) satisfies Reply,
        (error: { message?: string; code?: string }) => ({ id, error: { message: String(error?.message ?? error), code: error?.code } }) satisfies Reply,
      );
      inFlight.add(running);
      void running.then((reply) => {
        inFlight.delete(running);
        if (!socket.destroyed) writeFrame(socket, reply);
      });
    });
  });
  await unlink(record.socket).catch(() => {}); // left by a dead owner: the lock says it is ours now
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(record.socket, () => resolve());
  });
  await chmod(record.socket, 0o600);
  server.unref(); // an idle owner does not keep a CLI process alive; close() releases it properly
  return {
    role: "owner",
    usable: () => open,
    query: (sql, params) => db.query(sql, params),
    close: async () => {
      if (!open) return;
      open = false;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
      for (const socket of sockets) socket.destroy();
      await db.close();
      // Only our own record: a process that took the database over after us keeps its lock.
      const still = await readOwner(lockPath).catch(() => undefined);
      if (still?.token === record.token) await unlink(lockPath).catch(() => {});
      await unlink(record.socket).catch(() => {});
    },
  };
}

function connectClient(record: OwnerRecord, what: string): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const socket = createConnection(record.socket);
    const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (error: unknown) => void }>();
    let nextId = 0;
    let connected = false;
    let gone = false;
    socket.once("connect", () => {
      connected = true;
      socket.unref(); // idle, it does not keep the process alive; pending queries ref it (below)
      writeFrame(socket, { token: record.token });
      resolve({
        role: "client",
        usable: () => !gone,
        query: (sql, params) =>
          new Promise((resolveQuery, rejectQuery) => {
            if (gone) return rejectQuery(new OwnerGoneError(`the ${what}'s owner (process ${record.pid}) went away`, false));
            const id = ++nextId;
            pending.set(id, { resolve: (rows) => resolveQuery({ rows }), reject: rejectQuery });
            socket.ref();
            writeFrame(socket, { id, sql, params } satisfies Request);
          }),
        close: async () => {
          gone = true;
          socket.end();
          socket.destroy();
        },
      });
    });
    readFrames(socket, (frame) => {
      const reply = frame as Reply;
      const waiter = pending.get(reply.id);
      if (waiter === undefined) return;
      pending.delete(reply.id);
      if (pending.size === 0) socket.unref();
      if (reply.error) waiter.reject(new SqlError(reply.error.message, reply.error.code));
      else waiter.resolve(reply.rows ?? []);
    });
    const fail = (error: Error) => {
      gone = true;
      if (!connected) return reject(error);
      for (const waiter of pending.values()) waiter.reject(new OwnerGoneError(`the ${what}'s owner (process ${record.pid}) went away during a query (${error.message}): retry`, true));
      pending.clear();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  });
}

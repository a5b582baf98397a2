/**
 * RTMP ingest that checks the stream key. ffmpeg's own RTMP server (`-listen 1`) accepts any
 * stream name, so the archiver runs this small RTMP server instead: it does the handshake,
 * answers connect/createStream, and reads the stream name of `publish`. A publisher whose name is
 * not the stream's secret key gets `NetStream.Publish.BadName` and is disconnected before any
 * media is read (nothing reaches ffmpeg, so nothing is registered or stored); the accepted one's
 * audio, video and metadata messages come out as an FLV byte stream (`flv`), which ffmpeg reads
 * from stdin like any other input. One publisher per stream; when it disconnects `flv` ends.
 *
 * The key is kept only as its SHA-256 ({@link hashStreamKey}) and compared in constant time.
 * Scope: what OBS, ffmpeg and librtmp encoders send (simple handshake, AMF0 commands).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import net from "node:net";
import { PassThrough } from "node:stream";

/** A new secret stream key: 24 random bytes, base64url ("sk_" + 32 characters). */
export function newStreamKey(): string {
  return `sk_${randomBytes(24).toString("base64url")}`;
}

/** What the live record keeps of a stream key: "sha256:<hex>". */
export function hashStreamKey(key: string): string {
  return `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

/** Whether `candidate` is the key of `keyHash`, in constant time. */
export function streamKeyMatches(candidate: string, keyHash: string): boolean {
  const expected = Buffer.from(hashStreamKey(candidate), "utf8");
  const stored = Buffer.from(keyHash, "utf8");
  return expected.length === stored.length && timingSafeEqual(expected, stored);
}

export interface RtmpIngestOptions {
  host: string;
  port: number;
  /** hashStreamKey(the stream's key) */
  keyHash: string;
  /** a publisher was turned away (wrong key, a second publisher, a protocol error); never carries the key */
  onRefused?(reason: string): void;
  /** the right key published: media follows */
  onPublish?(): void;
}

export interface RtmpIngest {
  /** FLV bytes of the accepted publisher (header, then one tag per RTMP media message) */
  flv: PassThrough;
  /** publishers refused so far */
  refused(): number;
  /** stops listening and disconnects everyone; `flv` ends */
  close(): void;
}

const HANDSHAKE = 1536;
/** An unauthenticated connection must publish within this long and this many bytes. */
const AUTH_TIMEOUT_MS = 15_000;
const AUTH_MAX_BYTES = 256 * 1024;
const WINDOW_ACK = 5_000_000;

// AMF0, the few types RTMP commands use.
type Amf = number | boolean | string | null | undefined | { [k: string]: Amf } | Amf[];

function amfDecode(buf: Buffer): Amf[] {
  let o = 0;
  const str = (long = false): string => {
    const n = long ? buf.readUInt32BE(o) : buf.readUInt16BE(o);
    o += long ? 4 : 2;
    const s = buf.toString("utf8", o, o + n);
    o += n;
    return s;
  };
  const props = (): { [k: string]: Amf } => {
    const out: { [k: string]: Amf } = {};
    for (;;) {
      const key = str();
      if (key === "" && buf[o] === 0x09) {
        o++;
        return out;
      }
      out[key] = value();
    }
  };
  const value = (): Amf => {
    const t = buf[o++];
    switch (t) {
      case 0x00: {
        const v = buf.readDoubleBE(o);
        o += 8;
        return v;
      }
      case 0x01:
        return buf[o++] !== 0;
      case 0x02:
        return str();
      case 0x03:
        return props();
      case 0x05:
        return null;
      case 0x06:
        return undefined;
      case 0x08:
        o += 4;
        return props();
      case 0x0a: {
        const n = buf.readUInt32BE(o);
        o += 4;
        return Array.from({ length: n }, () => value());
      }
      case 0x0c:
        return str(true);
      default:
        throw new Error(`unsupported AMF0 type ${t}`);
    }
  };
  const out: Amf[] = [];
  while (o < buf.length) out.push(value());
  return out;
}

function amfEncode(values: Amf[]): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s, "utf8");
    const n = Buffer.alloc(2);
    n.writeUInt16BE(b.length);
    parts.push(n, b);
  };
  const value = (v: Amf) => {
    if (typeof v === "number") {
      const b = Buffer.alloc(9);
      b[0] = 0x00;
      b.writeDoubleBE(v, 1);
      parts.push(b);
    } else if (typeof v === "boolean") parts.push(Buffer.from([0x01, v ? 1 : 0]));
    else if (typeof v === "string") {
      parts.push(Buffer.from([0x02]));
      str(v);
    } else if (v === null) parts.push(Buffer.from([0x05]));
    else if (v === undefined) parts.push(Buffer.from([0x06]));
    else if (Array.isArray(v)) throw new Error("strict arrays are not sent");
    else {
      parts.push(Buffer.from([0x03]));
      for (const [k, x] of Object.entries(v)) {
        str(k);
        value(x);
      }
      parts.push(Buffer.from([0x00, 0x00, 0x09]));
    }
  };
  for (const v of values) value(v);
  return Buffer.concat(parts);
}

interface Message {
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

interface ChunkStream {
  timestamp: number;
  /** the last header's timestamp field (absolute for type 0, a delta otherwise), reused by type 3 */
  tsField: number;
  extended: boolean;
  length: number;
  type: number;
  streamId: number;
  parts: Buffer[];
  received: number;
}

/** Reassembles RTMP messages from the client's chunk stream (RTMP 1.0 spec section 5.3). */
class ChunkReader {
  chunkSize = 128;
  #buf: Buffer = Buffer.alloc(0);
  readonly #streams = new Map<number, ChunkStream>();

  push(data: Buffer): Message[] {
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    const out: Message[] = [];
    for (;;) {
      const m = this.#next();
      if (m === "wait") return out;
      if (m) out.push(m);
    }
  }

  /** One chunk: a finished message, null (a part of one), or "wait" (not all of it arrived yet). */
  #next(): Message | null | "wait" {
    const b = this.#buf;
    if (b.length < 1) return "wait";
    const fmt = b[0]! >> 6;
    let csid = b[0]! & 0x3f;
    let o = 1;
    if (csid === 0) {
      if (b.length < 2) return "wait";
      csid = b[1]! + 64;
      o = 2;
    } else if (csid === 1) {
      if (b.length < 3) return "wait";
      csid = b[1]! + b[2]! * 256 + 64;
      o = 3;
    }
    const headerLength = [11, 7, 3, 0][fmt]!;
    if (b.length < o + headerLength) return "wait";
    const prev = this.#streams.get(csid);
    if (fmt !== 0 && prev === undefined) throw new Error(`chunk stream ${csid} starts without a full header`);
    const s: ChunkStream = prev ? { ...prev } : { timestamp: 0, tsField: 0, extended: false, length: 0, type: 0, streamId: 0, parts: [], received: 0 };
    let tsField = s.tsField;
    if (fmt <= 2) tsField = b.readUIntBE(o, 3);
    if (fmt <= 1) {
      s.length = b.readUIntBE(o + 3, 3);
      s.type = b[o + 6]!;
    }
    if (fmt === 0) s.streamId = b.readUInt32LE(o + 7);
    o += headerLength;
    const extended = fmt <= 2 ? tsField === 0xffffff : s.extended;
    if (extended) {
      if (b.length < o + 4) return "wait";
      tsField = b.readUInt32BE(o);
      o += 4;
    }
    const continuing = s.received > 0;
    if (fmt !== 3 && continuing) throw new Error(`chunk stream ${csid}: a new message header inside a message`);
    const take = Math.min(this.chunkSize, s.length - s.received);
    if (b.length < o + take) return "wait";
    if (!continuing) {
      s.timestamp = fmt === 0 ? tsField : (s.timestamp + tsField) >>> 0;
      s.parts = [];
    }
    s.tsField = tsField;
    s.extended = extended;
    s.parts = [...s.parts, b.subarray(o, o + take)];
    s.received += take;
    this.#buf = b.subarray(o + take);
    if (s.received < s.length) {
      this.#streams.set(csid, s);
      return null;
    }
    const message = { type: s.type, streamId: s.streamId, timestamp: s.timestamp, payload: Buffer.concat(s.parts) };
    this.#streams.set(csid, { ...s, parts: [], received: 0 });
    return message;
  }
}

/** One message as chunks of 128 bytes (the default chunk size: this server never changes its own). */
function chunked(csid: number, type: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = csid;
  header.writeUIntBE(0, 1, 3);
  header.writeUIntBE(payload.length, 4, 3);
  header[7] = type;
  header.writeUInt32LE(streamId, 8);
  const parts: Buffer[] = [header];
  for (let o = 0; o < payload.length; o += 128) {
    if (o > 0) parts.push(Buffer.from([0xc0 | csid]));
    parts.push(payload.subarray(o, o + 128));
  }
  return Buffer.concat(parts);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function flvTag(type: number, timestamp: number, data: Buffer): Buffer {
  const tag = Buffer.alloc(11);
  tag[0] = type;
  tag.writeUIntBE(data.length, 1, 3);
  tag.writeUIntBE(timestamp & 0xffffff, 4, 3);
  tag[7] = (timestamp >>> 24) & 0xff;
  return Buffer.concat([tag, data, u32(11 + data.length)]);
}

/** "@setDataFrame" "onMetaData" {...} as sent by publishers -> "onMetaData" {...} as FLV carries it. */
function metadataTag(payload: Buffer): Buffer {
  const marker = amfEncode(["@setDataFrame"]);
  return payload.subarray(0, marker.length).equals(marker) ? payload.subarray(marker.length) : payload;
}

/** Listens for RTMP publishers on host:port; resolves once listening (rejects with what to do when the port is taken). */
export async function listenRtmp(options: RtmpIngestOptions): Promise<RtmpIngest> {
  const flv = new PassThrough({ highWaterMark: 1 << 20 });
  const sockets = new Set<net.Socket>();
  let refused = 0;
  let publisher: net.Socket | undefined;
  let closed = false;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined); // a publisher that vanishes mid-write: its close is handled below
    if (publisher !== undefined || closed) {
      refused++;
      options.onRefused?.("a publisher is already streaming to this stream");
      socket.destroy();
      return;
    }
    serve(socket);
  });

  const refuse = (socket: net.Socket, reason: string) => {
    if (socket.destroyed) return;
    refused++;
    options.onRefused?.(reason);
    socket.end();
    setTimeout(() => socket.destroy(), 500).unref();
  };

  function serve(socket: net.Socket): void {
    let phase: "c0c1" | "c2" | "chunks" = "c0c1";
    let pending: Buffer = Buffer.alloc(0);
    const reader = new ChunkReader();
    let accepted = false;
    let received = 0;
    let acked = 0;
    const authTimer = setTimeout(() => refuse(socket, "no publish command in time"), AUTH_TIMEOUT_MS);
    authTimer.unref();
    const send = (csid: number, type: number, streamId: number, payload: Buffer) => {
      if (!socket.destroyed) socket.write(chunked(csid, type, streamId, payload));
    };
    const command = (streamId: number, values: Amf[]) => send(streamId === 0 ? 3 : 5, 20, streamId, amfEncode(values));
    const status = (level: string, code: string, description: string) => command(1, ["onStatus", 0, null, { level, code, description }]);

    const onMessage = (m: Message) => {
      if (m.type === 1) {
        reader.chunkSize = Math.max(1, Math.min(m.payload.readUInt32BE(0) & 0x7fffffff, 1 << 24));
        return;
      }
      if (accepted && (m.type === 8 || m.type === 9 || m.type === 18)) {
        const data = m.type === 18 ? metadataTag(m.payload) : m.payload;
        if (!flv.write(flvTag(m.type, m.timestamp, data))) {
          socket.pause();
          flv.once("drain", () => socket.resume());
        }
        return;
      }
      if (m.type !== 20 && m.type !== 17) return; // acks, user control, bandwidth: nothing to do
      const [name, tx, , ...args] = amfDecode(m.type === 17 ? m.payload.subarray(1) : m.payload);
      const txid = typeof tx === "number" ? tx : 0;
      if (name === "connect") {
        send(2, 5, 0, u32(WINDOW_ACK));
        send(2, 6, 0, Buffer.concat([u32(WINDOW_ACK), Buffer.from([2])]));
        command(0, ["_result", txid, { fmsVer: "FMS/3,0,1,123", capabilities: 31 }, { level: "status", code: "NetConnection.Connect.Success", description: "Connection succeeded.", objectEncoding: 0 }]);
      } else if (name === "createStream") {
        command(0, ["_result", txid, null, 1]);
      } else if (name === "publish") {
        clearTimeout(authTimer);
        const key = typeof args[0] === "string" ? args[0] : "";
        if (!streamKeyMatches(key, options.keyHash)) {
          status("error", "NetStream.Publish.BadName", "wrong stream key: use the key streamvault live printed for this stream");
          refuse(socket, "wrong stream key");
          return;
        }
        if (publisher !== undefined) {
          status("error", "NetStream.Publish.BadName", "a publisher is already streaming to this stream");
          refuse(socket, "a publisher is already streaming to this stream");
          return;
        }
        publisher = socket;
        accepted = true;
        send(2, 4, 0, Buffer.from([0, 0, 0, 0, 0, 1])); // user control: Stream Begin 1
        status("status", "NetStream.Publish.Start", "publishing");
        // FLV header (audio + video) and PreviousTagSize0.
        flv.write(Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]));
        options.onPublish?.();
      } else if (txid > 0) {
        command(0, ["_result", txid, null, undefined]); // releaseStream, FCPublish, ...: acknowledged, nothing to do
      }
    };

    socket.on("data", (data: Buffer) => {
      received += data.length;
      if (!accepted && received > AUTH_MAX_BYTES) return refuse(socket, "too much data before publish");
      if (received - acked >= WINDOW_ACK) {
        acked = received;
        send(2, 3, 0, u32(received));
      }
      try {
        if (phase !== "chunks") {
          pending = Buffer.concat([pending, data]);
          if (phase === "c0c1") {
            if (pending.length < 1 + HANDSHAKE) return;
            if (pending[0] !== 3) return refuse(socket, `RTMP version ${pending[0]} (only 3 is spoken)`);
            const c1 = pending.subarray(1, 1 + HANDSHAKE);
            const s1 = Buffer.concat([Buffer.alloc(8), randomBytes(HANDSHAKE - 8)]);
            socket.write(Buffer.concat([Buffer.from([3]), s1, c1]));
            pending = pending.subarray(1 + HANDSHAKE);
            phase = "c2";
          }
          if (pending.length < HANDSHAKE) return;
          data = pending.subarray(HANDSHAKE);
          pending = Buffer.alloc(0);
          phase = "chunks";
        }
        for (const m of reader.push(data)) onMessage(m);
      } catch (error) {
        refuse(socket, `RTMP protocol error: ${(error as Error).message}`);
      }
    });
    socket.once("close", () => {
      clearTimeout(authTimer);
      if (publisher === socket) flv.end(); // the publisher stopped: the input ended
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `RTMP port ${options.host}:${options.port} is in use: pick another with --rtmp-port` : `cannot listen for RTMP on ${options.host}:${options.port}: ${error.message}`)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    flv,
    refused: () => refused,
    close: () => {
      if (closed) return;
      closed = true;
      server.close();
      for (const s of sockets) s.destroy();
      if (!flv.writableEnded) flv.end();
    },
  };
}

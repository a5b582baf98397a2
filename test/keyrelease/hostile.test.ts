/**
 * Hostile clients against key release: an abusive client does not lock others out (client address
 * from the socket, or from X-Forwarded-For behind a configured number of trusted proxies), and
 * oversized bodies are refused while they stream in, never buffered.
 */
import { expect } from "chai";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { clientAddress, trustedProxyHops } from "@streamvault/lib/http/client-address.ts";
import type { KeyReleaseServer } from "@streamvault/lib/keyrelease/server.ts";
import type { Logger } from "@streamvault/lib/keyrelease/service.ts";
import { SIWE_URI, siweMessage, startChainFixture, startFixtureServer, type ChainFixture } from "./fixture.ts";

const quietLogger: Logger = { info() {}, warn() {}, error() {} };

interface RawResponse {
  status: number;
  body: string;
  headers: IncomingMessage["headers"];
}

/** One HTTP request from a chosen loopback source address (127.0.0.0/8 is all loopback on Linux). */
function send(url: string, options: { path: string; method?: string; localAddress?: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  const target = new URL(options.path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: options.method ?? "GET", localAddress: options.localAddress, headers: options.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Signs in from `localAddress`; the status of POST /api/auth/verify. */
async function signInFrom(url: string, localAddress: string, f: ChainFixture): Promise<number> {
  const account = await f.newAccount();
  const nonceRes = await send(url, { path: "/api/auth/nonce", localAddress });
  if (nonceRes.status !== 200) return nonceRes.status;
  const message = siweMessage(JSON.parse(nonceRes.body), account.address);
  const signature = await account.signMessage({ message });
  const verify = await send(url, {
    path: "/api/auth/verify",
    method: "POST",
    localAddress,
    headers: { "content-type": "application/json", origin: SIWE_URI },
    body: JSON.stringify({ message, signature }),
  });
  return verify.status;
}

/**
 * Streams up to `total` bytes of body as fast as the socket takes them, stopping at the response.
 * Returns the status and how many bytes the server let through before answering.
 */
function streamHugeBody(url: string, path: string, total: number, declareLength: boolean): Promise<{ status: number; body: string; sent: number }> {
  const target = new URL(path, url);
  const chunk = Buffer.alloc(1 << 20, 0x7b); // "{{{{..." never parses, so nothing but the limit can stop it
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = { "content-type": "application/json", origin: SIWE_URI };
    if (declareLength) headers["content-length"] = String(total);
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers, agent: false }, (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent });
      });
    });
    // The server closes the connection after its 413: a write error then is expected.
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < total) {
        const ok = req.write(chunk);
        sent += chunk.length;
        if (!ok) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe("hostile clients: key release", function () {
  this.timeout(120_000);
  let f: ChainFixture;

  before(async () => {
    f = await startChainFixture();
  });
  after(async () => {
    await f?.stop();
  });

  describe("client address", () => {
    it("is the socket peer with 0 trusted hops: X-Forwarded-For written by the client is ignored", () => {
      expect(clientAddress("127.0.0.9", "6.6.6.6", 0)).to.equal("127.0.0.9");
      expect(clientAddress("::ffff:10.0.0.1", null, 0)).to.equal("10.0.0.1");
      expect(clientAddress(undefined, "6.6.6.6", 0)).to.equal("unknown");
    });

    it("behind N trusted proxies is the entry N places left of the peer, never the left-most", () => {
      // client wrote "6.6.6.6"; the CDN appended the client's real address, the balancer the CDN's.
      expect(clientAddress("10.0.0.2", "6.6.6.6, 203.0.113.7, 10.0.0.1", 2)).to.equal("203.0.113.7");
      expect(clientAddress("10.0.0.1", "6.6.6.6, 203.0.113.7", 1)).to.equal("203.0.113.7");
      // Fewer entries than hops: the left-most one, which a trusted proxy wrote.
      expect(clientAddress("10.0.0.1", "203.0.113.7", 3)).to.equal("203.0.113.7");
      // Not an address (a proxy misconfigured, or garbage): the peer, not the garbage.
      expect(clientAddress("10.0.0.1", "6.6.6.6, not-an-ip", 1)).to.equal("10.0.0.1");
      expect(clientAddress("10.0.0.1", "[2001:db8::1]:443", 1)).to.equal("2001:db8::1");
    });

    it("TRUSTED_PROXY_HOPS: default 0, a non-negative integer, a clear error otherwise", () => {
      expect(trustedProxyHops({})).to.equal(0);
      expect(trustedProxyHops({ TRUSTED_PROXY_HOPS: "2" })).to.equal(2);
      expect(() => trustedProxyHops({ TRUSTED_PROXY_HOPS: "yes" })).to.throw(/number of reverse proxies/);
    });
  });

  describe("one abusive client does not lock another out", () => {
    let srv: KeyReleaseServer;
    before(async () => {
      // The default per-address limit: 300 requests per 60 s.
      srv = await startFixtureServer(f, { logger: quietLogger });
    });
    after(async () => srv?.close());

    it("a client sending 300 requests a minute is refused; a fan at another address signs in", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 301; i++) statuses.push((await send(srv.url, { path: "/api/auth/nonce", localAddress: "127.0.0.2" })).status);
      expect(statuses.slice(0, 300).every((s) => s === 200)).to.equal(true);
      expect(statuses[300]).to.equal(429);
      expect(await signInFrom(srv.url, "127.0.0.3", f)).to.equal(200);
    });

    it("with 0 trusted hops a client cannot dodge its limit by writing X-Forwarded-For", async () => {
      const spoofed = await send(srv.url, { path: "/api/auth/nonce", localAddress: "127.0.0.2", headers: { "x-forwarded-for": "198.51.100.1" } });
      expect(spoofed.status).to.equal(429);
    });

    it("a Fetch Request without a peer address (how Next route handlers called it) shares one bucket", async () => {
      // The web app tags each Request with its client address (web/lib/server/client-address.ts);
      // untagged Requests all fall into "unknown". This pins down what an untagged caller gets.
      const strict = await startFixtureServer(f, { logger: quietLogger, rateLimits: { ip: { points: 2, durationSeconds: 60 } } });
      try {
        const untagged = () => strict.service.handle(new Request("http://app.test/api/auth/nonce")).then((r) => r.status);
        expect([await untagged(), await untagged(), await untagged()]).to.deep.equal([200, 200, 429]);
      } finally {
        await strict.close();
      }
    });
  });

  describe("behind trusted proxies", () => {
    let srv: KeyReleaseServer;
    before(async () => {
      srv = await startFixtureServer(f, { logger: quietLogger, trustedProxyHops: 1, rateLimits: { ip: { points: 3, durationSeconds: 60 } } });
    });
    after(async () => srv?.close());

    it("limits the address the proxy saw, however the client rotates the left-most entries", async () => {
      const statuses: number[] = [];
      // The proxy (this test, at 127.0.0.1) appends the attacker's address 203.0.113.66 each time.
      for (let i = 0; i < 5; i++) statuses.push((await send(srv.url, { path: "/api/auth/nonce", headers: { "x-forwarded-for": `198.51.100.${i}, 203.0.113.66` } })).status);
      expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);
      // Another fan behind the same proxy is not affected.
      expect((await send(srv.url, { path: "/api/auth/nonce", headers: { "x-forwarded-for": "203.0.113.5" } })).status).to.equal(200);
    });

    it("an attacker naming the victim's address in the left-most entry does not lock the victim out", async () => {
      for (let i = 0; i < 4; i++) await send(srv.url, { path: "/api/auth/nonce", headers: { "x-forwarded-for": "203.0.113.99, 203.0.113.67" } });
      expect((await send(srv.url, { path: "/api/auth/nonce", headers: { "x-forwarded-for": "203.0.113.99" } })).status).to.equal(200);
    });
  });

  describe("bodies limited while streaming, before parsing", () => {
    let srv: KeyReleaseServer;
    before(async () => {
      srv = await startFixtureServer(f, { logger: quietLogger });
    });
    after(async () => srv?.close());

    const GB3 = 3 * 1024 ** 3;

    it("a 3 GB chunked body to /api/auth/verify gets 413 after at most a few MiB were read", async () => {
      const rssBefore = process.memoryUsage().rss;
      const result = await streamHugeBody(srv.url, "/api/auth/verify", GB3, false);
      expect(result.status).to.equal(413);
      expect(JSON.parse(result.body).message).to.match(/at most 16 KB/);
      // What the socket buffers hold before the server stops reading, nowhere near 3 GB.
      expect(result.sent).to.be.lessThan(64 * 1024 ** 2);
      expect(process.memoryUsage().rss - rssBefore).to.be.lessThan(200 * 1024 ** 2);
    });

    it("a declared Content-Length of 3 GB is refused before the body is read", async () => {
      const result = await streamHugeBody(srv.url, "/api/keys/0x" + "11".repeat(32), GB3, true);
      expect(result.status).to.equal(413);
      expect(result.sent).to.be.lessThan(64 * 1024 ** 2);
    });

    it("a Fetch Request (the Next route path) with an endless body stream gets 413; the stream is cancelled", async () => {
      let pulled = 0;
      let cancelled = false;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(4096).fill(0x20));
        },
        cancel() {
          cancelled = true;
        },
      });
      const request = new Request(`${SIWE_URI}/api/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: endless, duplex: "half" } as RequestInit);
      const response = await srv.service.handle(request);
      expect(response.status).to.equal(413);
      expect(cancelled).to.equal(true);
      expect(pulled * 4096).to.be.lessThan(64 * 1024);
    });

    it("a JSON body just under the limit is still read and judged on its content", async () => {
      const padded = JSON.stringify({ message: "x".repeat(15_000), signature: "0x00" });
      const res = await send(srv.url, { path: "/api/auth/verify", method: "POST", headers: { "content-type": "application/json", origin: SIWE_URI }, body: padded });
      expect(res.status).to.equal(400);
    });
  });
});

// The direct LIST's HTTP/1.1 client (runner/store/http1.ts) against real servers: Node's http
// server for the usual shapes, and a raw TCP server for the ones that server never sends.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Http1Pool } from "../../runner/store/http1.js";
import { isRetryable } from "../../runner/store/s3.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function httpServer(handler: http.RequestListener, keepAliveTimeout = 5000): Promise<{ url: URL; connections: () => number }> {
  let connections = 0;
  const srv = http.createServer(handler);
  srv.keepAliveTimeout = keepAliveTimeout;
  srv.on("connection", () => connections++);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))));
  return { url: new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`), connections: () => connections };
}

/** A TCP server that answers every request on a connection with `reply(n)` (n: request number). */
async function rawServer(reply: (n: number, sock: net.Socket) => void): Promise<URL> {
  let n = 0;
  const socks = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    socks.add(sock);
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      while (buf.includes("\r\n\r\n")) {
        buf = buf.slice(buf.indexOf("\r\n\r\n") + 4);
        reply(n++, sock);
      }
    });
    sock.on("error", () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise<void>((r) => (socks.forEach((s) => s.destroy()), srv.close(() => r()))));
  return new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
}

const opts = { timeoutMs: 2000, maxBody: 1 << 20 };

describe("Http1Pool", () => {
  it("reads Content-Length and chunked bodies, byte for byte, on one kept-alive connection; sends the headers given", async () => {
    const big = Buffer.alloc(300_000, "x");
    for (let i = 0; i < big.length; i += 997) big[i] = 65 + (i % 26);
    const seen: http.IncomingHttpHeaders[] = [];
    const s = await httpServer((req, res) => {
      seen.push(req.headers);
      if (req.url === "/chunked") {
        res.write(big.subarray(0, 100_000));
        setTimeout(() => res.end(big.subarray(100_000)), 5);
      } else {
        res.setHeader("content-length", big.length);
        res.end(big);
      }
    });
    const allocated: Buffer[] = [];
    const pool = new Http1Pool(s.url, { ...opts, alloc: (n) => (allocated.push(Buffer.alloc(n + 10)), allocated[allocated.length - 1]) });
    for (const path of ["/len", "/chunked", "/len?a=1", "/chunked"]) {
      const r = await pool.get(path, { "x-amz-date": "20261204T000000Z", authorization: "AWS4 x" });
      expect(r.status).toBe(200);
      expect(Buffer.compare(r.body, big)).toBe(0);
      if (path.startsWith("/len")) expect(r.pooled).toBe(allocated[allocated.length - 1]);
      else expect(r.pooled).toBeUndefined();
    }
    expect(s.connections()).toBe(1);
    expect(seen[0]).toMatchObject({ host: s.url.host, "x-amz-date": "20261204T000000Z", authorization: "AWS4 x" });
  });

  it("https: reads over TLS on one kept-alive connection, checking the server's certificate", async () => {
    // A self-signed certificate for 127.0.0.1 (openssl: .ci/run installs it).
    const dir = mkdtempSync(join(tmpdir(), "http1-tls-"));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const cert = readFileSync(join(dir, "cert.pem"));
    let connections = 0;
    const srv = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (_req, res) => res.end("over tls"));
    srv.on("secureConnection", () => connections++);
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    closers.push(() => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))));
    const url = new URL(`https://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    const pool = new Http1Pool(url, { ...opts, ca: cert });
    for (let i = 0; i < 3; i++) expect((await pool.get("/", {})).body.toString()).toBe("over tls");
    expect(connections).toBe(1);
    // Without trusting it: the handshake fails (no silent plain text, no unchecked certificate).
    await expect(new Http1Pool(url, opts).get("/", {})).rejects.toMatchObject({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
  });

  it("responses read in pieces on several connections at once keep their own bytes (plain http reads through one shared buffer)", async () => {
    // Each body is distinct, larger than the shared read buffer, and sent in pieces after a head
    // split in three: a byte kept from that buffer without a copy would show up as another's.
    const bodyOf = (n: number) => {
      const b = Buffer.alloc(200_000 + n * 1000);
      for (let i = 0; i < b.length; i++) b[i] = (i * 7 + n * 13) & 255;
      return b;
    };
    const url = await rawServer((n, sock) => {
      const body = bodyOf(n);
      const head = `HTTP/1.1 200 OK\r\n${n % 2 ? "x-a: 1\r\n" : ""}content-length: ${body.length}\r\n\r\n`;
      const parts = [head.slice(0, 5), head.slice(5, 20), head.slice(20), body.subarray(0, 10), body.subarray(10, 150_000), body.subarray(150_000)];
      let k = 0;
      const next = () => {
        if (k < parts.length) sock.write(parts[k++], () => setTimeout(next, 2));
      };
      next();
    });
    // Odd requests get a pooled buffer (read straight into it), even ones none (collected).
    let calls = 0;
    const pool = new Http1Pool(url, { ...opts, alloc: (n) => (calls++ % 2 ? Buffer.alloc(n) : undefined) });
    const got = await Promise.all(Array.from({ length: 8 }, () => pool.get("/", {})));
    const expected = new Set(Array.from({ length: 8 }, (_, n) => bodyOf(n).toString("base64")));
    for (const r of got) expect(expected.delete(r.body.toString("base64"))).toBe(true);
    expect(expected.size).toBe(0);
  });

  it("bytes on an idle connection (nothing was asked): that connection is dropped, the next request goes out on a new one", async () => {
    let conns = 0;
    const url = await rawServer((_n, sock) => {
      sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      setTimeout(() => sock.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstray"), 20);
    });
    const pool = new Http1Pool(url, opts);
    const idle = (pool as unknown as { idle: net.Socket[] }).idle;
    expect((await pool.get("/", {})).body.toString()).toBe("ok");
    conns = idle.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(conns).toBe(1);
    expect(idle).toHaveLength(0);
    expect((await pool.get("/", {})).body.toString()).toBe("ok");
  });

  it("returns an error status with its body and headers (the caller shapes the S3 error)", async () => {
    const s = await httpServer((_req, res) => {
      res.writeHead(403, { "content-type": "application/xml", date: "Fri, 04 Dec 2026 10:00:00 GMT" });
      res.end("<Error><Code>RequestTimeTooSkewed</Code></Error>");
    });
    const r = await new Http1Pool(s.url, opts).get("/b?list-type=2", {});
    expect(r.status).toBe(403);
    expect(r.body.toString()).toContain("RequestTimeTooSkewed");
    expect(r.headers.date).toBe("Fri, 04 Dec 2026 10:00:00 GMT");
  });

  it("a kept-alive connection the server closed while idle: the request goes out on a new one", async () => {
    const url = await rawServer((_n, sock) => {
      sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      setTimeout(() => sock.end(), 30); // the server's keep-alive timeout
    });
    const pool = new Http1Pool(url, opts);
    expect((await pool.get("/", {})).body.toString()).toBe("ok");
    await new Promise((r) => setTimeout(r, 200));
    expect((pool as unknown as { idle: net.Socket[] }).idle).toHaveLength(0);
    expect((await pool.get("/", {})).body.toString()).toBe("ok");
  });

  it("a reset after the request was sent on a reused connection, before any answer: sent again once", async () => {
    const url = await rawServer((n, sock) => {
      if (n === 1) sock.destroy(); // the second request on the first connection
      else sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
    const pool = new Http1Pool(url, opts);
    expect((await pool.get("/", {})).body.toString()).toBe("ok");
    expect((await pool.get("/", {})).body.toString()).toBe("ok");
  });

  it("skips 1xx interim responses; reads HTTP/1.0 and Connection: close bodies to the end; 204 has none", async () => {
    const url = await rawServer((n, sock) => {
      if (n === 0) sock.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
      else if (n === 1) sock.end("HTTP/1.0 200 OK\r\n\r\nuntil the close");
      else if (n === 2) sock.end("HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n");
      else sock.write("HTTP/1.1 204 No Content\r\ncontent-length: 99\r\n\r\n");
    });
    const pool = new Http1Pool(url, opts);
    expect((await pool.get("/", {})).body.toString()).toBe("hello");
    expect((await pool.get("/", {})).body.toString()).toBe("until the close");
    expect((await pool.get("/", {})).body.toString()).toBe("abc");
    const r = await pool.get("/", {});
    expect(r.status).toBe(204);
    expect(r.body.length).toBe(0);
  });

  it("a body cut short, a stall and an oversized body fail with errors the runner retries (the last: a clear one)", async () => {
    const url = await rawServer((n, sock) => {
      if (n === 0) sock.end("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this");
      else if (n === 1) sock.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nthen nothing");
      else sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${2 << 20}\r\n\r\n`);
    });
    const pool = new Http1Pool(url, { ...opts, timeoutMs: 300 });
    const cut = await pool.get("/", {}).catch((e: Error) => e);
    expect(cut).toMatchObject({ name: "TruncatedBody" });
    expect(isRetryable(cut)).toBe(true);
    const t0 = Date.now();
    const stall = await pool.get("/", {}).catch((e: Error) => e);
    expect(stall).toMatchObject({ name: "TimeoutError" });
    expect(isRetryable(stall)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(pool.get("/", {})).rejects.toThrow(/larger than 1048576 bytes/);
  });

  it("a refused connection is the socket's own error (ECONNREFUSED), not retried as stale", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(new Http1Pool(new URL(`http://127.0.0.1:${port}`), opts).get("/", {})).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("idle connections keep no process alive, and 50 requests on one connection add no listeners", async () => {
    const s = await httpServer((_req, res) => res.end("ok"));
    const pool = new Http1Pool(s.url, opts);
    for (let i = 0; i < 50; i++) await pool.get("/", {});
    const idle = (pool as unknown as { idle: net.Socket[] }).idle;
    expect(idle).toHaveLength(1);
    for (const ev of ["data", "error", "end", "close", "timeout"]) expect(idle[0].listenerCount(ev), ev).toBeLessThanOrEqual(2);
    expect(s.connections()).toBe(1);
  });
});
